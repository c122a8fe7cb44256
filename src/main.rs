//! The `hotpapers` command line: a thin front end over [`hotpapers::app::App`].

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    cli::main()
}

/// Malloc arenas glibc may create: one per core of the machines hotpapers targets.
const MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`] unless `MALLOC_ARENA_MAX` says otherwise.
///
/// glibc gives a thread that allocates its own arena, up to eight per core, and an arena keeps
/// what it once held. `import` allocates on its parser thread, on whichever blocking threads
/// write, and on the checkpoint thread: importing five 10,000-entry files peaked at 98–107 MB
/// with the default, 86 MB with two arenas (81 MB with one, but then every thread contends
/// for it), the same speed with two.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets a tunable of the allocator, and no other thread exists
        // yet to allocate at the same time.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}
