//! `config.json`: every mesos-dns key with its default, matched
//! case-insensitively, and its validation.
