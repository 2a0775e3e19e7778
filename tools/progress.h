// The merge's progress on a terminal: bytes its passes have read and the
// rate, one line on stderr redrawn in place. Only when stderr is a
// terminal and not --quiet: nothing in logs or pipes.
#ifndef PGMERGE_TOOLS_PROGRESS_H_
#define PGMERGE_TOOLS_PROGRESS_H_

namespace pgmerge::tools {

// Starts reporting (through base/read_progress.h) when stderr is a
// terminal and `quiet` is false. Not thread-safe; call once, from main.
void StartProgress(bool quiet);
// Clears the line so the next message starts on a clean one (the summary,
// a -v line, an error); the next report draws it again.
void ClearProgress();

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_PROGRESS_H_
