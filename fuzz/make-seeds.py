#!/usr/bin/env python3
"""Writes the generated seeds of fuzz/corpus/ (perf-map, jitdump, kallsyms, xenoprof, elf); see fuzz/corpus/SOURCES.md.

Run from the repository root: python3 fuzz/make-seeds.py. Deterministic except for the ELF seeds, which gcc builds.
Layouts: jitdump per perf's tools/perf/Documentation/jitdump-specification.txt (version 1 header, records
{u32 id, u32 total_size, u64 timestamp}); xenoprof_buf per xen/include/public/xenoprof.h (48-byte header, then
event_log entries of 16 bytes, or 12 in the 32-bit compat layout).
"""
import os
import struct
import subprocess

C = "fuzz/corpus"


def write(path, data):
    with open(os.path.join(C, path), "wb") as f:
        f.write(data)


# perf-map: .NET's style (0x-less hex, names with spaces and brackets), perf's 0x style, a re-JIT at one start.
write("perf-map/dotnet.map", b"".join([
    b"7F8A2C3E0000 2C [PreJIT] instance void [System.Private.CoreLib] System.Object::.ctor()[PreJIT]\n",
    b"7F8A2C3E0040 1A4 [OptimizedTier1] int32 [burner] Hot::Sieve(int32)[OptimizedTier1]\n",
    b"7F8A2C3E0200 80 stub<1> AllocateTemporaryEntryPoints<PRECODE_FIXUP>\n",
    b"7F8A2C3E0040 1B0 [OptimizedTier1] int32 [burner] Hot::Sieve(int32)[OSR]\n",
]))
write("perf-map/perf-style.map", b"0x400000 0x100 main\n0x400100 0x20 helper\n0xffffffffff600000 0x1000 [vsyscall]\n")


# jitdump: header, a CODE_LOAD with 4 code bytes, a DEBUG_INFO, a CODE_MOVE, an UNWINDING_INFO, a CLOSE.
def rec(rid, ts, payload):
    return struct.pack("<IIQ", rid, 16 + len(payload), ts) + payload


def jitdump(big=False):
    e = ">" if big else "<"
    head = struct.pack(e + "IIIIIIQQ", 0x4A695444, 1, 40, 62, 0, 4242, 1000, 0)
    code = b"\x55\x48\x89\xe5"
    load = struct.pack(e + "IIQQQQ", 4242, 4243, 0x7F0000001000, 0x7F0000001000, len(code), 1) + b"Hot::Sieve(int32)\0" + code
    dbg = struct.pack(e + "QQ", 0x7F0000001000, 1) + struct.pack(e + "QII", 0x7F0000001000, 12, 0) + b"hot.cs\0"
    move = struct.pack(e + "IIQQQQQ", 4242, 4243, 0x7F0000002000, 0x7F0000001000, 0x7F0000002000, len(code), 1)
    unwind = struct.pack(e + "QQQ", 8, 4, 0) + b"\0" * 8
    def r(rid, ts, p):
        return struct.pack(e + "IIQ", rid, 16 + len(p), ts) + p
    return head + r(2, 1001, dbg) + r(0, 1002, load) + r(4, 1003, unwind) + r(1, 1004, move) + r(3, 1005, b"")


write("jitdump/jit-4242.dump", jitdump())
write("jitdump/jit-4242-be.dump", jitdump(big=True))

# kallsyms, and /proc/modules lines (the kallsyms harness reads its input as both).
write("kallsyms/kallsyms", b"".join([
    b"0000000000000000 A fixed_percpu_data\n",
    b"ffffffff81000000 T _stext\n",
    b"ffffffff81000000 T _text\n",
    b"ffffffff81001000 t do_one_initcall\n",
    b"ffffffff81002000 W arch_cpu_idle\n",
    b"ffffffff81003000 T schedule\n",
    b"ffffffff82000000 D jiffies\n",
    b"ffffffffc0000000 t nft_do_chain\t[nf_tables]\n",
    b"ffffffffc0000400 T nft_register_expr\t[nf_tables]\n",
]))
write("kallsyms/modules", b"nf_tables 348160 0 - Live 0xffffffffc0000000\nxfs 2129920 1 - Live 0xffffffffc0100000 (E)\n")
write("kallsyms/restricted", b"0000000000000000 T _stext\n0000000000000000 t do_one_initcall\n0000000000000000 T schedule\n")


# xenoprof_buf: head, tail, event_size, vcpu_id, four u64 counters, then the log.
def xbuf(head, tail, size, entries, compat=False):
    h = struct.pack("<IIII QQQQ", head, tail, size, 0, 1, 2, 3, 0)
    log = b""
    for eip, mode, ev in entries:
        log += struct.pack("<QBB", eip, mode, ev) + (b"\0\0" if compat else b"\0" * 6)
    return h + log


ents = [(0xFFFF82D080200000, 2, 0), (0xFFFFFFFF81003000, 1, 0), (0x400123, 0, 0), (0xFFFF, 3, 1)]
write("xenoprof/native", xbuf(3, 0, 4, ents))
write("xenoprof/native-wrapped", xbuf(1, 3, 4, ents))
write("xenoprof/compat", xbuf(2, 0, 4, ents, compat=True))
write("xenoprof/empty", xbuf(0, 0, 4, ents))

# ELF: a small program with .symtab, .dynsym, .eh_frame and a build-id, and its stripped copy.
src = "fuzz/elf-seed.c"
subprocess.run(["gcc", "-Os", "-g0", "-Wl,--build-id", "-o", os.path.join(C, "elf", "small"), src], check=True)
subprocess.run(["strip", "-o", os.path.join(C, "elf", "small-stripped"), os.path.join(C, "elf", "small")], check=True)
