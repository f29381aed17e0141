"""dkimpy's dnsfunc for a test's own name server on 127.0.0.1:PORT.

    sys.dont_write_bytecode = True
    sys.path.insert(0, os.environ["DKIMROT_SRC"] + "/tests/lib")
    from dnstxt import txt_at
    dkim.verify(message, dnsfunc=txt_at(port))

Needs dnspython.  A name with no TXT record gives None, as dkimpy wants.
"""
import dns.message
import dns.query
import dns.rdatatype


def txt_at(port):
    def txt(name, timeout=5):
        q = dns.message.make_query(name.decode(), "TXT", use_edns=0,
                                   payload=4096)
        r, _ = dns.query.udp_with_fallback(q, "127.0.0.1", port=port,
                                           timeout=timeout)
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                for rd in rrset:
                    return b"".join(rd.strings)
        return None
    return txt
