//! The CCP-1 frame type numbers the client sends or reacts to (spec §1.4).

pub const HELLO: u8 = 0x01;
pub const AUTH: u8 = 0x02;
pub const JOIN: u8 = 0x03;
pub const LEAVE: u8 = 0x04;
pub const MSG: u8 = 0x05;
pub const ACK: u8 = 0x06;
pub const PRESENCE: u8 = 0x08;
pub const ERROR: u8 = 0x0d;
