# A sender written from docs/protocol.md alone, that makes hostile offers.
#
# usage: transfer_hostile.py HOST PORT CASE
# Prints one line on stdout: `VERDICT <n> <reason>` for the receiver's decision, then,
# for cases that get past it, `ACK <tag> ...` lines for what the receiver answered.
import os, signal, socket, struct, sys

signal.alarm(60)
host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]

FOLDER, FILE, LINK = 0, 1, 2


def entry(kind, path, size=0, mode=0o644, link=None, depth=None):
    out = struct.pack('!BHQqIB', kind, mode, size, 1_600_000_000, 0,
                      len(path) if depth is None else depth)
    for c in path:
        c = c.encode('utf-8') if isinstance(c, str) else c
        out += struct.pack('!H', len(c)) + c
    if kind == LINK:
        t = link.encode()
        out += struct.pack('!H', len(t)) + t
    return out


def offer(entries, name=b'hostile', count=None, total=None, length=None):
    body = name + b''.join(e for e, _ in entries)
    total = sum(s for _, s in entries) if total is None else total
    count = len(entries) if count is None else count
    length = len(body) if length is None else length
    return struct.pack('!4sIIQH', b'SKXO', length, count, total, len(name)) + body


def e(kind, path, size=0, **kw):
    return (entry(kind, path, size, **kw), size)


def recv_exact(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError('closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data


cases = {
    'absolute': [e(FILE, ['/etc/passwd'], 1)],
    'dotdot': [e(FOLDER, ['..']), e(FILE, ['..', 'x'], 1)],
    'dot': [e(FILE, ['.'], 1)],
    'empty': [e(FILE, [''], 1)],
    'nul': [e(FILE, ['a\0b'], 1)],
    'control': [e(FILE, ['a\x1b[2Jb'], 1)],
    'backslash': [e(FILE, ['..\\..\\x'], 1)],
    'long': [e(FILE, ['a' * 256], 1)],
    'notutf8': [e(FILE, [b'\xff\xfe'], 1)],
    'deep': [e(FOLDER, ['d'] * i) for i in range(1, 65)] + [e(FILE, ['d'] * 65, 1)],
    'case': [e(FILE, ['Report.txt'], 1), e(FILE, ['report.TXT'], 1)],
    'nfc': [e(FILE, ['caf\u00e9'], 1), e(FILE, ['cafe\u0301'], 1)],
    'clash': [e(FILE, ['a'], 1), e(FILE, ['a', 'b'], 1)],
    'orphan': [e(FILE, ['nofolder', 'x'], 1)],
    'partname': [e(FILE, ['.x.sockit-part'], 1)],
    'linkout': [e(FOLDER, ['top']), e(LINK, ['top', 'l'], link='../../etc/passwd')],
    'linkabs': [e(FOLDER, ['top']), e(LINK, ['top', 'l'], link='/etc/passwd')],
}

s = socket.create_connection((host, port), timeout=30)
s.sendall(struct.pack('!4sHI16s', b'SKXF', 1, 3, os.urandom(16)))
magic, version, caps, sid = struct.unpack('!4sHI16s', recv_exact(s, 26))
assert magic == b'SKXF' and version == 1, (magic, version)

if case in cases:
    s.sendall(offer(cases[case]))
elif case == 'entries':
    s.sendall(offer([e(FILE, ['a'], 1)], count=1_000_001))
elif case == 'manifest':
    # Announces 16 MiB + 1 and sends only a few bytes: refused on the header alone.
    s.sendall(offer([e(FILE, ['a'], 1)], length=16 * 1024 * 1024 + 1))
elif case == 'total':
    s.sendall(offer([e(FILE, ['a'], 1)], total=2))
elif case in ('beyond', 'unasked', 'bidi', 'wrongstart'):
    name = 'evil\u202etxt.exe' if case == 'bidi' else 'a'
    s.sendall(offer([e(FILE, [name], 5), e(FOLDER, ['f'])]))
else:
    sys.exit('unknown case ' + case)

magic, verdict, n = struct.unpack('!4sBH', recv_exact(s, 7))
reason = recv_exact(s, n).decode('utf-8', 'replace')
print('VERDICT', verdict, reason, flush=True)
if verdict != 0:
    sys.exit(0)
count = 2
answers = [struct.unpack('!BQ32s', recv_exact(s, 41)) for _ in range(count)]
print('ANSWERS', ' '.join(str(a[0]) for a in answers), flush=True)

import hashlib
if case == 'beyond':
    # The manifest says 5 bytes; send 10.
    s.sendall(struct.pack('!cIQ', b'F', 0, 0) + struct.pack('!cI', b'D', 10) + b'0123456789')
elif case == 'unasked':
    # Data for entry 1, a folder.
    s.sendall(struct.pack('!cIQ', b'F', 1, 0) + struct.pack('!cI', b'D', 1) + b'x')
elif case == 'wrongstart':
    s.sendall(struct.pack('!cIQ', b'F', 0, 3) + struct.pack('!cI', b'D', 2) + b'xx')
elif case == 'bidi':
    data = b'hello'
    # BLAKE3 is not in Python's standard library: send a wrong digest on purpose and
    # check the receiver deletes the part and says so.
    s.sendall(struct.pack('!cIQ', b'F', 0, 0) + struct.pack('!cI', b'D', 5) + data
              + struct.pack('!c32s', b'T', hashlib.sha256(data).digest()) + b'E')
s.settimeout(10)
try:
    while True:
        tag = recv_exact(s, 1)
        if tag == b'Z':
            (n,) = struct.unpack('!H', recv_exact(s, 2))
            print('ACK Z', recv_exact(s, n).decode('utf-8', 'replace'), flush=True)
            break
        if tag == b'P':
            recv_exact(s, 8)
        elif tag == b'V':
            index, result, nbytes = struct.unpack('!IBQ', recv_exact(s, 13))
            print('ACK V', index, result, flush=True)
        elif tag == b'S':
            print('ACK S', *struct.unpack('!IIIQ', recv_exact(s, 20)), flush=True)
            break
        else:
            print('ACK ?', tag, flush=True)
            break
except (EOFError, OSError) as err:
    print('CLOSED', err, flush=True)
