//! A bounded memo of extractive summaries, so showing the same papers again costs nothing.
//!
//! The extractive summarizer is pure but not free: about 0.2 ms per abstract (sentence
//! splitting, LaTeX clean-up, Porter stemming, feature scoring). `/hot` shows the same ten
//! papers to everyone who asks during a day, and every subscription's post shows them again,
//! so each summary is computed once and remembered. The memo is keyed by a hash of the title
//! and abstract, so an edited abstract is summarized anew, and it holds at most
//! [`MEMO_ENTRIES`] summaries (least recently used go first): a few hundred kilobytes.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use hashlink::LruCache;

use super::extractive;

/// How many summaries the memo keeps: a week of every mailing's shown papers many times over.
pub const MEMO_ENTRIES: usize = 2_048;

/// Extractive summaries of recently summarized papers, shared by every caller of one app.
#[derive(Debug)]
pub struct ExtractiveMemo {
    entries: Mutex<LruCache<u64, Option<String>>>,
}

impl Default for ExtractiveMemo {
    fn default() -> Self {
        ExtractiveMemo::with_capacity(MEMO_ENTRIES)
    }
}

impl ExtractiveMemo {
    /// A memo holding at most `capacity` summaries (at least one).
    pub fn with_capacity(capacity: usize) -> ExtractiveMemo {
        ExtractiveMemo {
            entries: Mutex::new(LruCache::new(capacity.max(1))),
        }
    }

    /// [`extractive::summarize`] of `title` and `abstract_text`, computed once per text.
    pub fn summarize(&self, title: &str, abstract_text: &str) -> Option<String> {
        let key = text_key(title, abstract_text);
        // A poisoned lock only means another thread panicked mid-insert: the map itself is
        // still a valid map, so it is used as it is.
        if let Some(hit) = self.lock().get(&key) {
            return hit.clone();
        }
        // Computed outside the lock: two threads may both compute a new text, which is only
        // wasted work, never a wrong answer.
        let summary = extractive::summarize(title, abstract_text);
        self.lock().insert(key, summary.clone());
        summary
    }

    /// How many summaries are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u64, Option<String>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A 64-bit key for a (title, abstract) pair; the lengths keep `("ab", "c")` and `("a", "bc")`
/// apart.
fn text_key(title: &str, abstract_text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    title.len().hash(&mut h);
    title.hash(&mut h);
    abstract_text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "Attention Is All You Need";
    const ABSTRACT: &str = "The dominant sequence transduction models are based on complex \
        recurrent or convolutional neural networks. We propose a new simple network \
        architecture, the Transformer, based solely on attention mechanisms. Experiments on two \
        machine translation tasks show these models to be superior in quality.";

    #[test]
    fn a_remembered_summary_is_the_summarizers_own() {
        let memo = ExtractiveMemo::default();
        let first = memo.summarize(TITLE, ABSTRACT);
        assert_eq!(first, extractive::summarize(TITLE, ABSTRACT));
        assert!(first.is_some());
        assert_eq!(memo.summarize(TITLE, ABSTRACT), first);
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn an_edited_abstract_is_summarized_anew() {
        let memo = ExtractiveMemo::default();
        let edited = ABSTRACT.replace("We propose a new simple", "We introduce a simpler");
        let a = memo.summarize(TITLE, ABSTRACT);
        let b = memo.summarize(TITLE, &edited);
        assert_eq!(memo.len(), 2);
        assert_eq!(b, extractive::summarize(TITLE, &edited));
        assert_ne!(a, b);
    }

    #[test]
    fn the_memo_stays_within_its_capacity() {
        let memo = ExtractiveMemo::with_capacity(3);
        for i in 0..10 {
            memo.summarize(&format!("Title {i}"), ABSTRACT);
        }
        assert_eq!(memo.len(), 3);
        assert!(
            ExtractiveMemo::with_capacity(0)
                .summarize(TITLE, ABSTRACT)
                .is_some()
        );
    }
}
