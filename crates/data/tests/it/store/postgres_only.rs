//! Tests of what only the PostgreSQL store has: its migrations on a server, several writers at
//! once, a server killed mid-import, URLs and passwords, and copying stores both ways.
