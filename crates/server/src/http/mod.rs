//! The HTTP API (mesos-dns `/v1/...`), `/metrics`, `/health` and `/ready`.
