# Reading yum repository metadata back in tests, with a parser of our
# own rather than dnf's.

# primary DIR: the package names and versions of DIR's repodata
primary() {
	zcat "$1"/repodata/*-primary.xml.gz | /usr/bin/python3 -c '
import re, sys
t = sys.stdin.read()
for m in re.finditer(r"<name>([^<]*)</name>.*?ver=\"([^\"]*)\"", t, re.S):
    print(m.group(1), m.group(2))'
}
