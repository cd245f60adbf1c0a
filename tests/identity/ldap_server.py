"""#18: a real OpenLDAP ``slapd`` (Debian's) with a seeded tree, started by the tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port

SUFFIX = "dc=musterbank,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "directory-admin-secret"  # noqa: S105 - a test server's
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"""


def _person(uid: str, name: str, password: str) -> str:
    given, _, family = name.partition(" ")
    return f"""dn: uid={uid},ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: {uid}
cn: {name}
givenName: {given}
sn: {family}
mail: {uid}@directory.example
userPassword: {password}
"""


def _group(cn: str, members: list[str]) -> str:
    lines = [f"dn: cn={cn},ou=groups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: uid={m},ou=people,{SUFFIX}" for m in members]
    return "\n".join(lines) + "\n"


def seed(people: dict[str, tuple[str, str]], groups: dict[str, list[str]]) -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: musterbank\n"
        "o: Musterbank AG\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    entries += [_person(uid, name, pw) for uid, (name, pw) in people.items()]
    entries += [_group(cn, members) for cn, members in groups.items()]
    return "\n".join(entries)


@contextmanager
def running_slapd(
    workdir: Path, people: dict[str, tuple[str, str]], groups: dict[str, list[str]]
) -> Iterator[str]:
    """slapd on 127.0.0.1 with the tree loaded offline (slapadd); yields its ldap:// URL."""
    (workdir / "db").mkdir(parents=True)
    conf = workdir / "slapd.conf"
    conf.write_text(
        CONFIG.format(dir=workdir, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD)
    )
    ldif = workdir / "seed.ldif"
    ldif.write_text(seed(people, groups))
    subprocess.run([SLAPADD, "-f", str(conf), "-l", str(ldif)], check=True, capture_output=True)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen(
        [SLAPD, "-f", str(conf), "-h", f"{url}/", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str, process: subprocess.Popen[str]) -> None:
    import ldap

    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError(f"slapd ended: {process.stderr.read() if process.stderr else ''}")
        try:
            conn = ldap.initialize(url)
            conn.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
            conn.unbind_s()
            return
        except ldap.SERVER_DOWN:
            time.sleep(0.1)
    raise RuntimeError("slapd did not answer")
