// pause's own exit codes (README, "Exit codes"); otherwise the child's code
// passes through, or 128+N for death by signal N.
/** pause itself failed: an internal error, or -s and the kernel refused. */
export const EXIT_INTERNAL = 1;
/** Bad usage, as getopt-based tools use. */
export const EXIT_USAGE = 2;
/** COMMAND was found but cannot be executed (as shells and tini). */
export const EXIT_CANNOT_EXECUTE = 126;
/** COMMAND was not found (as shells and tini). */
export const EXIT_NOT_FOUND = 127;
