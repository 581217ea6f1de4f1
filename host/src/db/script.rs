//! Runs a SQL file statement by statement and locates a failure in the file.
// STUB — helper B replaces this file.
