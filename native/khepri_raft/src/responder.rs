//! A responder that calls a closure with the outcome of a write.

use openraft::raft::responder::Responder;
use openraft::{OptionalSend, RaftTypeConfig};

/// Calls its closure exactly once: with `Some(result)` when openraft completes
/// the request, or with `None` when the request is dropped unanswered (store
/// shut down, task died). So a waiting caller is always answered.
pub struct CallbackResponder<T> {
    callback: Option<Box<dyn FnOnce(Option<T>) + Send + 'static>>,
}

impl<T> CallbackResponder<T> {
    /// A responder that will call `f`.
    pub fn new(f: impl FnOnce(Option<T>) + Send + 'static) -> Self {
        CallbackResponder {
            callback: Some(Box::new(f)),
        }
    }

    /// Drops the responder without calling the closure: for a caller that
    /// answers by other means (the request never left its hands).
    pub fn disarm(mut self) {
        self.callback = None;
    }
}

impl<C: RaftTypeConfig, T: OptionalSend + 'static> Responder<C, T> for CallbackResponder<T> {
    fn on_complete(mut self, result: T) {
        if let Some(f) = self.callback.take() {
            f(Some(result));
        }
    }
}

impl<T> Drop for CallbackResponder<T> {
    fn drop(&mut self) {
        if let Some(f) = self.callback.take() {
            f(None);
        }
    }
}
