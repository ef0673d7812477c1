/* The file mappings code runs from. In user mode guest addresses are host
 * addresses, so /proc/self/maps tells; each mapping is announced once in the
 * TB table (a MAP record) and TBs name it by its index. */
#ifndef HWCOV_EMU_MAPS_H
#define HWCOV_EMU_MAPS_H

#include <stdint.h>

/* The MAP record index of the file mapping holding |address|, appending the
 * record first if the mapping is new; HWCOV_EMU_NONE for code without a file. */
uint32_t hwcov_emu_map_of(uint64_t address);

/* A syscall may have changed the mappings: read them again when next asked. */
void hwcov_emu_maps_changed(void);

/* How many mappings were announced so far (a fork child inherits them). */
uint32_t hwcov_emu_maps_announced(void);

#endif /* HWCOV_EMU_MAPS_H */
