//! Where an import's rows come from: a CSV file on disk, or a CSV text already in memory (the
//! activities of an API request). Both go through the same reader, checks and problems.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input of an import: named in its problems and in the import's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A CSV file.
    File(PathBuf),
    /// A CSV text held in memory, and the name its problems and the import's record give it.
    Text { name: String, bytes: Arc<[u8]> },
}

impl Source {
    /// A CSV text in memory, named `name`.
    pub fn text(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self::Text {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// The name problems give it: a file's path as given, or a text's name.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Text { name, .. } => name.clone(),
        }
    }
}

impl From<PathBuf> for Source {
    fn from(path: PathBuf) -> Self {
        Self::File(path)
    }
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Self {
        Self::File(path.to_path_buf())
    }
}
