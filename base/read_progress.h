// How far the passes have read the mapped inputs, for the command line's
// progress line: MappedFile::Release (called every few MB of every pass,
// behind its cursor) reports the file and the offset reached.
#ifndef PGMERGE_BASE_READ_PROGRESS_H_
#define PGMERGE_BASE_READ_PROGRESS_H_

#include <cstddef>

namespace pgmerge {

class MappedFile;

// Set once, before any pass. The hook must be thread-safe: passes over
// different inputs run in parallel. Null (the default): no reports.
using ReadProgressHook = void (*)(const MappedFile& file, size_t offset);
void SetReadProgressHook(ReadProgressHook hook);

}  // namespace pgmerge

#endif  // PGMERGE_BASE_READ_PROGRESS_H_
