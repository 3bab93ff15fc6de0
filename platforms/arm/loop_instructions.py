#!/usr/bin/env python3
"""Innermost loops of the functions in an object file, from objdump's disassembly.

Usage: loop_instructions.py OBJDUMP OBJECT [FUNCTION_SUBSTRING]

For every backward conditional branch that closes a loop containing no other loop, prints the
function, the loop's address range, its instruction count and a breakdown (multiply-adds,
vector/scalar loads, stores, other). docs/arm.md divides these counts by the nonzeros one loop
iteration consumes. Works for A64 and A32/T32 disassembly (GNU objdump syntax).
"""
import re
import subprocess
import sys

BRANCH = re.compile(
    r"^(b\.\w+|b(eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\.w|\.n)?|cbn?z|tbn?z)$")
FUNC = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")


def classify(mnemonic):
    m = mnemonic.lower()
    if m.startswith(("fmla", "fmadd", "vmla", "vfma")):
        return "mac"
    if m.startswith(("ld", "vld")):
        return "load"
    if m.startswith(("st", "vst")):
        return "store"
    return "other"


def main():
    objdump, obj = sys.argv[1], sys.argv[2]
    wanted = sys.argv[3] if len(sys.argv) > 3 else ""
    text = subprocess.run([objdump, "-d", "-C", "--no-show-raw-insn", obj], check=True,
                          capture_output=True, text=True).stdout
    functions = []
    for line in text.splitlines():
        f = FUNC.match(line)
        if f:
            functions.append((f.group(2), []))
            continue
        i = INSN.match(line)
        if i and functions:
            functions[-1][1].append((int(i.group(1), 16), i.group(2), i.group(3)))
    for name, insns in functions:
        if wanted not in name:
            continue
        loops = []
        for index, (address, mnemonic, operands) in enumerate(insns):
            if not BRANCH.match(mnemonic):
                continue
            target = re.search(r"\b([0-9a-f]+) <", operands)
            if not target:
                continue
            target = int(target.group(1), 16)
            if target < address:
                start = next(k for k, insn in enumerate(insns) if insn[0] >= target)
                loops.append((start, index))
        innermost = [l for l in loops
                     if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]
        for start, end in innermost:
            body = insns[start:end + 1]
            counts = {"mac": 0, "load": 0, "store": 0, "other": 0}
            for _, mnemonic, _ in body:
                counts[classify(mnemonic)] += 1
            print(f"{name}\n  loop {body[0][0]:#x}..{body[-1][0]:#x}: {len(body)} instructions "
                  f"(mac {counts['mac']}, load {counts['load']}, store {counts['store']}, "
                  f"other {counts['other']})")


if __name__ == "__main__":
    main()
