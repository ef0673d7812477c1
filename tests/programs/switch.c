/* switch.c: a dense switch (jump table), a sparse switch (compare tree),
 * fallthrough between cases, and a GNU case range.
 *
 * usage: switch [CODE...]
 *   Each CODE is an HTTP-like status number, described with a sparse switch.
 *   A CODE that is not a number is an error; the exit status is the number
 *   of errors.
 */
#include <stdio.h>
#include <stdlib.h>

enum opcode { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_DUP, OP_SWAP, OP_NEG, OP_PRINT, OP_HALT };

/* A stack machine: the dense switch over opcodes 0..9 compiles to a jump table. */
static int run(const int *code, int length)
{
  int stack[16];
  int sp = 0;
  int a, b;
  for (int pc = 0; pc < length; pc++) {
    switch (code[pc]) {
    case OP_PUSH:
      stack[sp++] = code[++pc];
      break;
    case OP_ADD:
      b = stack[--sp];
      a = stack[--sp];
      stack[sp++] = a + b;
      break;
    case OP_SUB:
      b = stack[--sp];
      a = stack[--sp];
      stack[sp++] = a - b;
      break;
    case OP_MUL:
      b = stack[--sp];
      a = stack[--sp];
      stack[sp++] = a * b;
      break;
    case OP_DIV:
      b = stack[--sp];
      a = stack[--sp];
      stack[sp++] = b ? a / b : 0;
      break;
    case OP_DUP:
      a = stack[sp - 1];
      stack[sp++] = a;
      break;
    case OP_SWAP:
      a = stack[sp - 1];
      stack[sp - 1] = stack[sp - 2];
      stack[sp - 2] = a;
      break;
    case OP_NEG:
      stack[sp - 1] = -stack[sp - 1];
      break;
    case OP_PRINT:
      printf("top = %d\n", stack[sp - 1]);
      break;
    case OP_HALT:
      return sp > 0 ? stack[sp - 1] : 0;
    default:
      fprintf(stderr, "bad opcode %d\n", code[pc]);
      return -1;
    }
  }
  return sp > 0 ? stack[sp - 1] : 0;
}

/* A sparse switch: too spread out for a table. */
static const char *describe(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 404:
    return "Not Found";
  case 418:
    return "I'm a teapot";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  case 100000:
    return "Impossible";
  default:
    return "unknown";
  }
}

/* Fallthrough: a level grants its own permission and every lower one. */
static int permissions(int level)
{
  int mask = 0;
  switch (level) {
  case 3:
    mask |= 4; /* admin */
    /* fall through */
  case 2:
    mask |= 2; /* write */
    /* fall through */
  case 1:
    mask |= 1; /* read */
    break;
  default:
    mask = 0;
    break;
  }
  return mask;
}

/* GNU case ranges. */
static const char *char_class(int c)
{
  switch (c) {
  case '0' ... '9':
    return "digit";
  case 'a' ... 'z':
  case 'A' ... 'Z':
    return "letter";
  case ' ':
  case '\t':
  case '\n':
    return "space";
  default:
    return "other";
  }
}

int main(int argc, char **argv)
{
  static const int program[] = {OP_PUSH, 6, OP_PUSH, 7, OP_MUL, OP_DUP, OP_PRINT, OP_PUSH, 2,
                                OP_SUB, OP_PUSH, 5, OP_DIV, OP_NEG, OP_PRINT, OP_HALT};
  static const char text[] = "Hi 42!";
  int errors = 0;

  printf("result = %d\n", run(program, (int)(sizeof program / sizeof program[0])));
  for (int level = 0; level <= 3; level++)
    printf("permissions(%d) = %d\n", level, permissions(level));
  for (const char *p = text; *p; p++)
    printf("'%c' is %s\n", *p, char_class(*p));
  for (int i = 1; i < argc; i++) {
    char *end;
    long code = strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0') {
      fprintf(stderr, "switch: not a number: %s\n", argv[i]);
      errors++;
      continue;
    }
    printf("%ld: %s\n", code, describe((int)code));
  }
  return errors;
}
