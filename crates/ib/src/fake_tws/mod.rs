//! A scripted fake TWS on 127.0.0.1 speaking the real wire protocol (being built).
