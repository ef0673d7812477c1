# The symbol table of this program exercises each clause of hwcov's one
# symbol rule (support/src/elf_reader.cc). Used by tests/unit/elf_reader_test.cc
# (built -static and -shared with -nostdlib) and as seeds of the elf fuzz
# corpus (tests/fuzz/make_elf_corpus.sh).
#
# _start   9 bytes, no .size: ends where `sized` starts;
# sized    4 bytes, .size 3: st_size is kept as given;
# unsized  5 bytes, local, no .size: the NOTYPE `marker` inside it is not a
#          function, so it ends where `chooser` starts;
# chooser  an IFUNC resolver (lea 7 + ret 1 = 8 bytes, .size from the assembler);
# tail     2 bytes, no .size, last in .text: ends at the section end;
# table    an object, not a function.
  .text
  .globl _start
  .type _start, @function
_start:
  mov $60, %eax
  xor %edi, %edi
  syscall
  .globl sized
  .type sized, @function
sized:
  nop; nop; nop; ret
  .size sized, 3
  .type unsized, @function
unsized:
  nop; nop
marker:
  nop; nop; ret
  .globl chooser
  .type chooser, @gnu_indirect_function
chooser:
  lea unsized(%rip), %rax
  ret
  .size chooser, .-chooser
  .type tail, @function
tail:
  nop; ret
  .data
  .type table, @object
table: .quad 0
  .size table, 8
  .section .note.GNU-stack, "", @progbits
