/*
 * dkimrot.yaml (docs/design.md §5): the whole schema, defaults, per-domain
 * overrides.  Every error names FILE:LINE:COLUMN and what was expected.
 */
#ifndef DK_CONFIG_H
#define DK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum dk_alg {
	DK_ALG_RSA = 0,
	DK_ALG_ED25519 = 1
};
#define DK_ALG_COUNT	2
#define DK_ALG_BIT(a)	(1u << (a))
/*
 * RSA key sizes dkimrot makes, accepts in rsa_bits and imports: below
 * 1024 RFC 8301 3.2 forbids; above 4096 is more than DNS and verifiers
 * handle well.
 */
#define DK_RSA_MIN_BITS	1024
#define DK_RSA_MAX_BITS	4096

/* The DKIM signers the private package serves (packaging.signers). */
enum dk_signer {
	DK_SIGNER_OPENDKIM = 0,
	DK_SIGNER_RSPAMD = 1,
	DK_SIGNER_EXIM = 2
};
#define DK_SIGNER_COUNT	3
#define DK_SIGNER_BIT(s)	(1u << (s))

/* The lifecycle knobs; the defaults block and every domain have one. */
struct dk_policy {
	unsigned	algorithms;	/* DK_ALG_BIT() set */
	int		rsa_bits;	/* DK_RSA_MIN_BITS..MAX_BITS */
	long long	rotate_every;	/* seconds */
	long long	publish_lead;
	long long	min_age;
	long long	drain;
	int		keep_published;	/* >= 1 */
	unsigned	ttl;		/* seconds */
	bool		restrict_email;	/* s=email */
	bool		testmode;	/* t=y */
	/*
	 * Sign mail from any subdomain with this domain's keys (d= this
	 * domain): a SigningTable pattern *@*.DOMAIN.
	 */
	bool		subdomains;
};

struct dk_domain_conf {
	char		*name;		/* validated, lower case */
	struct dk_policy policy;	/* defaults with overrides applied */
	int		 line;		/* line of its name in the file */
};

/* A name server of dns.nameservers, parsed. */
#define DK_ADDR_MAX	46	/* INET6_ADDRSTRLEN */
struct dk_nameserver {
	int		 family;	/* AF_INET or AF_INET6 */
	char		 addr[DK_ADDR_MAX];	/* numeric, inet_ntop's form */
	unsigned short	 port;		/* 53 unless given */
};

/*
 * packaging.compression: the payload of both packages (docs/design.md
 * §11).  gzip and xz install on every supported rpm (4.11 of EL7 on);
 * zstd needs rpm 4.14 (EL8).
 */
enum dk_compress {
	DK_COMPRESS_GZIP = 0,	/* the default */
	DK_COMPRESS_XZ,
	DK_COMPRESS_ZSTD
};

/* packaging.formats */
#define DK_FORMAT_RPM	0x1
#define DK_FORMAT_DEB	0x2

/*
 * The name server that loads the public package's zone fragments: it
 * picks the default of packaging.dns_reload (common/config_dns.c).
 */
enum dk_server_type {
	DK_SERVER_BIND = 0,
	DK_SERVER_NSD,
	DK_SERVER_KNOT
};

/* dns.max_serial_lag: at most a million serials. */
#define DK_SERIAL_LAG_MAX	1000000

/* dns.publish: how the public package puts the records into DNS. */
enum dk_publish {
	DK_PUBLISH_INCLUDE = 0,	/* fragments to $INCLUDE */
	DK_PUBLISH_ZONES,	/* one zone _domainkey.DOMAIN per domain */
	DK_PUBLISH_RFC2136	/* rotate sends dynamic updates */
};

struct dk_packaging_conf {
	char	*output;	/* the yum repositories' directory */
	/* "" = OUTPUT/private, OUTPUT/public (rotator/output.h) */
	char	*private_output;
	char	*public_output;
	int	 keep_builds;
	/*
	 * 0: the keys in dkim-keys-private itself; else that many part
	 * packages hold them, by rotation slot (packaging/parts.h).
	 */
	int	 parts;
	int	 compress;	/* enum dk_compress */
	unsigned formats;	/* DK_FORMAT_*, RPM always among them */
	/* absolute, [A-Za-z0-9/._+-] only, no "..", "//" or final '/' */
	char	*key_dir;
	char	*table_dir;
	char	*zone_dir;
	/* [a-z_][a-z0-9_-]*, at most 32 characters */
	char	*key_owner;
	char	*key_group;
	/*
	 * Shell commands for %post, written by the repository's owner:
	 * printable ASCII without '%'; "" = run nothing.
	 */
	char	*mta_reload;
	char	*dns_reload;	/* default: dk_config_dns_reload() */
	bool	 dns_reload_given;	/* written in dkimrot.yaml */
	char	*sign_key;	/* "" = unsigned */
	/* GnuPG home, relative to the repository; "" = $GNUPGHOME, ~/.gnupg */
	char	*gnupg_home;
	/* DK_SIGNER_BIT() set: what the private package is made for */
	unsigned signers;
	/* owners of the rspamd and Exim copies of the keys, as key_owner */
	char	*rspamd_user;
	char	*rspamd_group;
	char	*exim_user;
	char	*exim_group;
};

struct dk_config {
	char			*file;		/* for messages */
	struct dk_policy	 defaults;
	struct dk_domain_conf	*domains;	/* in file order */
	size_t			 ndomains;
	/* domains sorted by name, for dk_config_domain(); NULL if none */
	struct dk_domain_conf	**byname;
	bool			 dns_verify;
	enum dk_server_type	 dns_server;
	enum dk_publish		 dns_publish;
	/* zones: the NS records of every _domainkey zone, validated */
	char			**zone_ns;
	size_t			 nzone_ns;
	/* zones: the secondaries the primary notifies and lets transfer */
	struct dk_nameserver	*secondaries;
	size_t			 nsecondaries;
	/* rfc2136: the primary updated, as written; the TSIG key's file */
	char			*primary;
	char			*tsig_key_file;
	/*
	 * zones, rfc2136: how many serials a name server's DKIM zone may
	 * be behind before check is CRITICAL (behind at all: WARNING).
	 */
	int			 max_serial_lag;
	char			**nameservers;	/* as written */
	struct dk_nameserver	*ns;		/* the same, parsed */
	size_t			 nnameservers;
	char			*git_author;	/* "Name <email>" as written */
	char			*git_name;	/* parsed from git_author */
	char			*git_email;
	char			*git_remote;	/* URL; "" = no remote */
	char			*git_branch;	/* "main" unless given */
	/* relative to the repository unless absolute; "" = none */
	char			*git_ssh_key;	/* the ssh private key */
	char			*git_known_hosts;	/* OpenSSH's format */
	char			*git_credentials;	/* https: USER:PASSWORD */
	char			*git_ca_file;	/* https: CAs; "" = system's */
	struct dk_packaging_conf packaging;
};

/* packaging.parts at most: the part packages' names have two digits. */
#define DK_PARTS_MAX	64

/* "gzip", "xz", "zstd" */
const char *dk_compress_name(int);

/* Largest dkimrot.yaml dk_config_load() reads. */
#define DK_CONFIG_MAX_SIZE	(16u * 1024 * 1024)

/*
 * The built-in defaults (dkimrot.yaml(5)) in a caller-allocated struct, no
 * domains, file NULL.  Its strings are static: the result is read-only
 * and never passed to dk_config_free() (dk_config_parse() of an empty
 * buffer gives an owned copy).
 */
void	dk_config_defaults(struct dk_config *);
/*
 * Parses a document.  filename is only for messages.  DK_EUSAGE on any
 * schema or syntax error, with "FILE:LINE:COL: message".
 */
int	dk_config_parse(const char *, size_t, const char *,
	    struct dk_config **);
/*
 * Reads and parses a file (at most DK_CONFIG_MAX_SIZE bytes); messages
 * name the path as given.  DK_ENOTFOUND if it does not exist.
 */
int	dk_config_load(const char *, struct dk_config **);
void	dk_config_free(struct dk_config *);
/* The domain's entry (name compared without case), or NULL; O(log n). */
const struct dk_domain_conf *
	dk_config_domain(const struct dk_config *, const char *);
/*
 * The text of a fresh dkimrot.yaml listing the given domains (validated
 * by the caller), with every default spelled out and commented; with
 * zone_ns (host names, validated by the caller) publish: zones and
 * those as zone_nameservers.
 */
int	dk_config_template(const char *const *, size_t, const char *sign_key,
	    const char *gnupg_home, const char *const *zone_ns,
	    size_t nzone_ns, char **);
/*
 * publish: zones: the NS records that delegate each named domain's DKIM
 * zone, _domainkey.DOMAIN, to zone_nameservers, as the domain's own zone
 * must hold them, after one comment line, written to f (init, status).
 * Nothing for another mode or no domains.  -1 when f fails.
 */
#define DK_DELEGATION_TTL	86400
int	dk_config_delegation(const struct dk_config *,
	    const char *const *domains, size_t n, FILE *f);

/*
 * The reload of the public package's %post for a server type and a
 * zone_dir (validated: no character the shell reads specially), in *out
 * (the caller frees it).  Why each is what it is: common/config_dns.c.
 */
int	dk_config_dns_reload(enum dk_server_type, enum dk_publish,
	    const char *zone_dir, char **out);
const char	*dk_server_type_name(enum dk_server_type);	/* "bind" */
int		 dk_server_type_parse(const char *, enum dk_server_type *);

const char	*dk_alg_name(enum dk_alg);	/* "rsa", "ed25519" */
const char	*dk_signer_name(enum dk_signer);	/* "opendkim", ... */
int		 dk_alg_parse(const char *, enum dk_alg *);
/* Selector suffix for multi-algorithm domains: 'r', 'e'. */
char		 dk_alg_suffix(enum dk_alg);

#endif
