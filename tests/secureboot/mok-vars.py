#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""mok-vars.py VARS_IN CERT_DER VARS_OUT - enroll CERT_DER as a Machine
Owner Key in a copy of an OVMF variable store, as MokManager would after a
person confirmed `mokutil --import CERT_DER` at the console.

shim reads MokList (vendor GUID 605dab50-..., boot-services and
non-volatile: not writable from a booted OS, which is why mokutil only
asks MokManager to do it at the next boot) and mirrors it to the OS as
MokListRT, which the kernel loads into its .machine keyring. The store is
edk2's authenticated-variable format: a firmware volume header, a variable
store header, then variables (60-byte header, UTF-16 name, data, 4-byte
aligned) up to free space (0xff). The new variable is appended there.
Exit: 0 written, 1 the store is not one this understands or is full.
"""

import struct
import sys
import uuid

FV_SIGNATURE = b"_FVH"
AUTH_VAR_STORE = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
SHIM_LOCK = uuid.UUID("605dab50-e046-4300-abb6-3dd810dd8b23")
CERT_X509 = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
VAR_START_ID = 0x55AA
VAR_ADDED = 0x3F
VAR_HEADER = struct.Struct("<HBBIQ16sIII16s")  # 60 bytes
NV_BS = 0x1 | 0x2  # non-volatile, boot-services access: never runtime


def die(msg):
    print(f"mok-vars: {msg}", file=sys.stderr)
    sys.exit(1)


def store_bounds(fd):
    """Offset of the first variable and end of the variable store."""
    if fd[40:44] != FV_SIGNATURE:
        die("not a firmware volume (no _FVH)")
    header_len = struct.unpack_from("<H", fd, 48)[0]
    guid = uuid.UUID(bytes_le=bytes(fd[header_len:header_len + 16]))
    if guid != AUTH_VAR_STORE:
        die(f"variable store {guid} is not edk2's authenticated format")
    size = struct.unpack_from("<I", fd, header_len + 16)[0]
    return header_len + 28, header_len + size


def free_offset(fd, start, end):
    """Offset after the last variable: where free space begins."""
    off = start
    while off + VAR_HEADER.size <= end:
        fields = VAR_HEADER.unpack_from(fd, off)
        if fields[0] != VAR_START_ID:
            return off
        name_size, data_size = fields[7], fields[8]
        off = (off + VAR_HEADER.size + name_size + data_size + 3) & ~3
    die("variable store is full")
    return end


def mok_list(cert):
    """An EFI_SIGNATURE_LIST holding one X.509 certificate, owned by shim."""
    sig_size = 16 + len(cert)
    header = struct.pack("<16sIII", CERT_X509.bytes_le, 28 + sig_size, 0, sig_size)
    return header + SHIM_LOCK.bytes_le + cert


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n", 1)[0], file=sys.stderr)
        sys.exit(2)
    fd = bytearray(open(sys.argv[1], "rb").read())
    cert = open(sys.argv[2], "rb").read()
    if cert[:1] != b"\x30":
        die(f"{sys.argv[2]} is not a DER certificate")
    start, end = store_bounds(fd)
    off = free_offset(fd, start, end)
    name = "MokList\0".encode("utf-16-le")
    data = mok_list(cert)
    var = VAR_HEADER.pack(VAR_START_ID, VAR_ADDED, 0, NV_BS, 0, bytes(16), 0,
                          len(name), len(data), SHIM_LOCK.bytes_le) + name + data
    if off + len(var) > end or fd[off:off + len(var)] != b"\xff" * len(var):
        die("no free space for MokList")
    fd[off:off + len(var)] = var
    open(sys.argv[3], "wb").write(fd)


if __name__ == "__main__":
    main()
