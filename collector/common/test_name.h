/* The test a traced program runs for (docs/user-guide.md, "Per-test
 * coverage"): one rule for every collector, in C because the QEMU plugin
 * applies it inside the emulated process. */
#ifndef HWCOV_TEST_NAME_H
#define HWCOV_TEST_NAME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set by the user for a test (CTest: set_tests_properties(... ENVIRONMENT),
 * meson: test(..., env:)); neither driver exports the test's name itself. */
#define HWCOV_TEST_NAME_VARIABLE "HWCOV_TEST_NAME"
/* Set by pytest to "path::test (phase)" while a test runs. */
#define HWCOV_PYTEST_VARIABLE "PYTEST_CURRENT_TEST"

/* Writes the test's name to |out| (at most |size| - 1 bytes, NUL-terminated):
 * |hwcov_test_name| when set and not empty, else |pytest_current_test|
 * without its " (setup)", " (call)" or " (teardown)" suffix, else the |argc|
 * words of |argv| joined by single spaces, the first without its directory
 * ("t01_sum 9" for "/build/t01_sum 9"). Either variable may be NULL. */
void hwcov_test_name(char* out, size_t size, const char* hwcov_test_name,
                     const char* pytest_current_test, const char* const* argv, size_t argc);

#ifdef __cplusplus
}
#endif

#endif /* HWCOV_TEST_NAME_H */
