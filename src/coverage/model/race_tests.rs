//! Tests of the reshard race rule (`race::reader_behind`).
