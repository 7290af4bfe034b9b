//! Command-line flags, Go style (`-config`, `-version`, `-v`).
