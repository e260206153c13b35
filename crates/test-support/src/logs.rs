//! [`LogBuffer`]: what a test's subscriber logged, to read back.

use std::sync::{Arc, Mutex, PoisonError};

/// An in-memory log sink. Give a clone to a subscriber as its writer
/// (`tracing_subscriber::fmt().with_writer(move || buffer.clone())`) and read what it wrote with
/// [`LogBuffer::text`].
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
