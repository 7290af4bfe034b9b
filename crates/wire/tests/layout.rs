//! Compile-time and layout guarantees the rest of the workspace relies on.

use std::path::Path;

use dns_wire::{Compressor, Edns, Header, Message, Name, Query, WireError};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_copy<T: Copy>() {}

#[test]
fn error_is_small_copy_and_an_error() {
    assert!(std::mem::size_of::<WireError>() <= 8);
    assert_copy::<WireError>();
    let e: &dyn std::error::Error = &WireError::BadPointer { at: 14, to: 20 };
    assert_eq!(
        e.to_string(),
        "compression pointer at 14 to 20 does not point backwards"
    );
}

#[test]
fn parsed_views_are_send_sync_and_copy() {
    assert_send_sync::<Query<'static>>();
    assert_send_sync::<Message<'static>>();
    assert_send_sync::<Name<'static>>();
    assert_send_sync::<Compressor>();
    assert_copy::<Query<'static>>();
    assert_copy::<Name<'static>>();
    assert_copy::<Header>();
    assert_copy::<Edns>();
}

/// The crate is `no_std` (the compiler enforces that) and must not pull in
/// `alloc` either: nothing in `src/` may declare it. Modules of unit tests
/// (`tests.rs`, compiled with `std` under `cfg(test)`) are left out.
#[test]
fn crate_does_not_use_alloc() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src.clone()];
    let mut checked = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("extern crate alloc"),
                "{} uses alloc",
                path.display()
            );
            assert!(!text.contains("alloc::"), "{} uses alloc", path.display());
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "expected the crate's modules in {}",
        src.display()
    );
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains("#![no_std]") && lib.contains("#![forbid(unsafe_code)]"));
}
