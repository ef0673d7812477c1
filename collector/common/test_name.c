#include "test_name.h"

#include <string.h>

static void Append(char* out, size_t size, size_t* used, const char* text, size_t n) {
  if (*used + 1 >= size) return;
  if (n > size - 1 - *used) n = size - 1 - *used;
  memcpy(out + *used, text, n);
  *used += n;
  out[*used] = '\0';
}

void hwcov_test_name(char* out, size_t size, const char* hwcov_test_name,
                     const char* pytest_current_test, const char* const* argv, size_t argc) {
  size_t used = 0;
  if (size == 0) return;
  out[0] = '\0';
  if (hwcov_test_name && *hwcov_test_name) {
    Append(out, size, &used, hwcov_test_name, strlen(hwcov_test_name));
    return;
  }
  if (pytest_current_test && *pytest_current_test) {
    size_t n = strlen(pytest_current_test);
    const char* phase = strrchr(pytest_current_test, ' ');
    if (phase && phase[1] == '(' && pytest_current_test[n - 1] == ')')
      n = (size_t)(phase - pytest_current_test);
    Append(out, size, &used, pytest_current_test, n);
    return;
  }
  for (size_t i = 0; i < argc; ++i) {
    const char* word = argv[i];
    const char* slash = i == 0 ? strrchr(word, '/') : NULL;
    if (slash && slash[1]) word = slash + 1;
    if (i) Append(out, size, &used, " ", 1);
    Append(out, size, &used, word, strlen(word));
  }
}
