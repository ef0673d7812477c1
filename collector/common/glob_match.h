/* The glob matching of --only and --only-exe. */
#ifndef HWCOV_GLOB_MATCH_H
#define HWCOV_GLOB_MATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* fnmatch(3) on the whole path, or on the file name when the pattern has no '/'. */
int hwcov_glob_match(const char* pattern, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* HWCOV_GLOB_MATCH_H */
