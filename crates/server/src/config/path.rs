//! The config path as mesos-dns resolves it (BEHAVIOUR.md 2.1): the first `~/`
//! becomes the home directory (`$USERPROFILE` wins over `$HOME` when both
//! are set, a quirk of the Go code kept here), then the path is made
//! absolute and cleaned lexically, like Go's `filepath.Abs`.

use std::path::{Component, Path, PathBuf};

/// The absolute, cleaned form of `path`.
pub fn absolute(path: &str) -> String {
    let home = std::env::var("USERPROFILE")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOME").ok());
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    absolute_with(path, home.as_deref(), &cwd)
}

/// [`absolute`] with the home directory and working directory given.
pub fn absolute_with(path: &str, home: Option<&str>, cwd: &Path) -> String {
    let expanded = match home {
        Some(home) => path.replacen("~/", &format!("{home}/"), 1),
        None => path.to_string(),
    };
    let joined = cwd.join(&expanded);
    clean(&joined)
}

/// Go's `filepath.Clean` for an absolute path: no `.`, `..` or doubled
/// separators.
fn clean(path: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or("")),
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_home_once_and_cleans() {
        let cwd = Path::new("/srv/run");
        assert_eq!(
            absolute_with("config.json", None, cwd),
            "/srv/run/config.json"
        );
        assert_eq!(absolute_with("./a/../b.json", None, cwd), "/srv/run/b.json");
        assert_eq!(
            absolute_with("/etc//x/./c.json", None, cwd),
            "/etc/x/c.json"
        );
        assert_eq!(
            absolute_with("~/c.json", Some("/home/u"), cwd),
            "/home/u/c.json"
        );
        assert_eq!(
            absolute_with("a/~/b/~/c", Some("/h"), cwd),
            "/srv/run/a/h/b/~/c"
        );
        assert_eq!(absolute_with("../../../x", None, cwd), "/x");
    }
}
