//! CCP-1 frames over one HTTP/2 request/response pair: the request body carries the client's
//! frames, the response body the server's (§2.3), split and joined as in §1.9.

use crate::codec::{Dialect, WireFrame};
use bytes::Bytes;
use h2::{RecvStream, SendStream};

pub struct FrameWriter {
    send: SendStream<Bytes>,
    dialect: Dialect,
}

impl FrameWriter {
    pub fn new(send: SendStream<Bytes>, dialect: Dialect) -> Self {
        Self { send, dialect }
    }

    pub fn send(&mut self, frame: &WireFrame) -> Result<(), String> {
        let bytes = self
            .dialect
            .encode(frame)
            .map_err(|e| format!("encode: {e}"))?;
        self.send
            .send_data(Bytes::from(bytes), false)
            .map_err(|e| format!("send: {e}"))
    }

    /// Ends the request body the way the real client does on disconnect: an empty DATA frame
    /// with END_STREAM.
    pub fn finish(&mut self) -> Result<(), String> {
        self.send
            .send_data(Bytes::new(), true)
            .map_err(|e| format!("end of stream: {e}"))
    }
}

pub struct FrameReader {
    body: RecvStream,
    buffer: Vec<u8>,
    dialect: Dialect,
}

impl FrameReader {
    pub fn new(body: RecvStream, dialect: Dialect) -> Self {
        Self {
            body,
            buffer: Vec::new(),
            dialect,
        }
    }

    /// The next frame; `Ok(None)` when the response ended cleanly between frames.
    pub async fn next(&mut self) -> Result<Option<WireFrame>, String> {
        loop {
            if !self.buffer.is_empty() {
                match self.dialect.decode(&self.buffer) {
                    Ok((frame, consumed)) => {
                        self.buffer.drain(..consumed);
                        return Ok(Some(frame));
                    }
                    // Not a whole frame yet: wait for more bytes.
                    Err(error) if error == "UnexpectedEof" => {}
                    Err(error) => {
                        return Err(format!(
                            "decode error {error} on bytes {}",
                            hex::encode(&self.buffer)
                        ))
                    }
                }
            }
            match self.body.data().await {
                Some(Ok(chunk)) => {
                    let _ = self.body.flow_control().release_capacity(chunk.len());
                    self.buffer.extend_from_slice(&chunk);
                }
                Some(Err(error)) => return Err(format!("response stream error: {error}")),
                None if self.buffer.is_empty() => return Ok(None),
                None => {
                    return Err(format!(
                        "response ended inside a frame: {}",
                        hex::encode(&self.buffer)
                    ))
                }
            }
        }
    }
}

impl FrameReader {
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}
