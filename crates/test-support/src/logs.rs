//! [`LogBuffer`]: what a test's subscriber logged, to read back.

use std::sync::{Arc, Mutex, PoisonError};

/// An in-memory log sink. [`LogBuffer::subscriber`] logs into it; any other subscriber can too,
/// given a clone as its writer (`with_writer(move || buffer.clone())`). [`LogBuffer::text`] reads
/// what was written.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// A plain-text subscriber at `info` that writes here, to install for one test with
    /// `tracing::subscriber::set_default` or `with_default`.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

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
