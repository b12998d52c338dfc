//! What a results.json may expand to before it is parsed. A file under the byte cap can still
//! hold far more than a page can keep: 500 MB of `[]` become 170 million vectors (4 GB), a
//! `prompts_source` of 400 MB becomes one string the page would show. One pass over the bytes,
//! allocating nothing, counts what parsing would build and stops at the first count over its
//! limit, so the file is refused before any of it is built.

use std::fmt;

/// Limits of one results file the page opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Prompts (`prompts`).
    pub prompts: u64,
    /// Tokens of one prompt (`clean_token_ids`, `corrupted_token_ids`, `clean_tokens`).
    pub tokens: u64,
    /// Numbers anywhere in the file (scores, token ids, logit differences).
    pub numbers: u64,
    /// Arrays anywhere in the file.
    pub arrays: u64,
    /// Bytes of all strings together.
    pub string_bytes: u64,
    /// Bytes of `config.prompts_source` (the prompts' description, shown as text).
    pub source_bytes: u64,
}

impl Budget {
    /// The page's: 4,096 prompts of up to 4,096 tokens; 2²⁵ numbers (a 256-prompt run on
    /// GPT-2 small with three methods, every neuron and per-position scores holds about 3·10⁷);
    /// 2²² arrays; 64 MiB of strings; a 4 MiB `prompts_source`.
    pub const PAGE: Budget = Budget {
        prompts: 4096,
        tokens: 4096,
        numbers: 1 << 25,
        arrays: 1 << 22,
        string_bytes: 64 << 20,
        source_bytes: 4 << 20,
    };
}

/// The first limit a file goes over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OverBudget {
    Prompts {
        limit: u64,
    },
    Tokens {
        prompt: u64,
        limit: u64,
    },
    Numbers {
        limit: u64,
    },
    Arrays {
        limit: u64,
    },
    StringBytes {
        limit: u64,
    },
    Source {
        bytes: u64,
        limit: u64,
    },
    /// Arrays and objects nested deeper than any results.json nests them.
    Depth {
        limit: u64,
    },
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OverBudget::Prompts { limit } => write!(
                f,
                "it has more than {limit} prompts, the most this page shows at once (open one \
                 part of a sharded run, or summarise it with the CLI)"
            ),
            OverBudget::Tokens { prompt, limit } => write!(
                f,
                "`prompts[{prompt}]` has more than {limit} tokens, the most this page shows"
            ),
            OverBudget::Numbers { limit } => write!(
                f,
                "it holds more than {limit} numbers, the most this page keeps from one file \
                 (about 256 prompts of GPT-2 small with every neuron); open fewer prompts"
            ),
            OverBudget::Arrays { limit } => write!(
                f,
                "it holds more than {limit} arrays, the most this page builds from one file"
            ),
            OverBudget::StringBytes { limit } => write!(
                f,
                "its text (strings) is over {}, the most this page keeps from one file",
                mib(limit)
            ),
            OverBudget::Source { bytes, limit } => write!(
                f,
                "`config.prompts_source` is {bytes} bytes, more than the {} this page shows",
                mib(limit)
            ),
            OverBudget::Depth { limit } => {
                write!(f, "it nests arrays and objects over {limit} levels deep")
            }
        }
    }
}

/// Deeper than any results.json (heads_pos: 5 levels under the root).
const MAX_DEPTH: usize = 32;

/// An array or object being scanned.
#[derive(Clone, Copy)]
struct Frame<'a> {
    array: bool,
    /// The key it is the value of (empty for an array's element).
    key: &'a [u8],
    /// Where it started.
    start: usize,
    /// Values so far (an array's elements).
    count: u64,
    /// An object expects a key next.
    expect_key: bool,
}

struct Scan<'a> {
    bytes: &'a [u8],
    budget: &'a Budget,
    stack: Vec<Frame<'a>>,
    /// The key the next value of the innermost object belongs to.
    key: &'a [u8],
    numbers: u64,
    arrays: u64,
    string_bytes: u64,
}

/// Counts what `bytes` would build, up to the first limit of `budget` they go over. Malformed
/// JSON is not this pass's to report: it stops there and leaves the message to the parser.
pub fn check(bytes: &[u8], budget: &Budget) -> Result<(), OverBudget> {
    let mut scan = Scan {
        bytes,
        budget,
        stack: Vec::with_capacity(MAX_DEPTH),
        key: b"",
        numbers: 0,
        arrays: 0,
        string_bytes: 0,
    };
    scan.run()
}

impl<'a> Scan<'a> {
    fn run(&mut self) -> Result<(), OverBudget> {
        let b = self.bytes;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let end = string_end(b, i + 1);
                    let text = &b[(i + 1).min(end)..end];
                    match self.stack.last_mut() {
                        Some(top) if !top.array && top.expect_key => {
                            top.expect_key = false;
                            self.key = text;
                        }
                        _ => self.string(text)?,
                    }
                    i = end + 1;
                }
                b'{' | b'[' => {
                    self.value()?;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(OverBudget::Depth {
                            limit: MAX_DEPTH as u64,
                        });
                    }
                    let array = b[i] == b'[';
                    if array {
                        self.arrays += 1;
                        if self.arrays > self.budget.arrays {
                            return Err(OverBudget::Arrays {
                                limit: self.budget.arrays,
                            });
                        }
                    }
                    let key = self.own_key();
                    self.stack.push(Frame {
                        array,
                        key,
                        start: i,
                        count: 0,
                        expect_key: !array,
                    });
                    i += 1;
                }
                b'}' | b']' => {
                    let Some(frame) = self.stack.pop() else {
                        return Ok(());
                    };
                    self.closed(&frame, i + 1)?;
                    i += 1;
                }
                b',' => {
                    if let Some(top) = self.stack.last_mut() {
                        top.expect_key = !top.array;
                    }
                    i += 1;
                }
                b'-' | b'0'..=b'9' => {
                    self.value()?;
                    self.numbers += 1;
                    if self.numbers > self.budget.numbers {
                        return Err(OverBudget::Numbers {
                            limit: self.budget.numbers,
                        });
                    }
                    i = token_end(b, i);
                }
                b't' | b'f' | b'n' => {
                    self.value()?;
                    i = token_end(b, i);
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// The key of the value starting now: the pending one in an object, none in an array.
    fn own_key(&mut self) -> &'a [u8] {
        match self.stack.last() {
            Some(top) if !top.array => std::mem::take(&mut self.key),
            _ => b"",
        }
    }

    /// A value starts: counted as an element of the array it is in.
    fn value(&mut self) -> Result<(), OverBudget> {
        let depth = self.stack.len();
        let Some(top) = self.stack.last_mut() else {
            return Ok(());
        };
        if !top.array {
            return Ok(());
        }
        top.count += 1;
        let (key, count) = (top.key, top.count);
        // `prompts`: an array under the root object.
        if depth == 2 && key == b"prompts" && count > self.budget.prompts {
            return Err(OverBudget::Prompts {
                limit: self.budget.prompts,
            });
        }
        // A prompt's tokens: `prompts[p].<key>` is an array at depth 4.
        let token_key = matches!(
            key,
            b"clean_token_ids" | b"corrupted_token_ids" | b"clean_tokens"
        );
        if depth == 4 && token_key && count > self.budget.tokens && self.stack[1].key == b"prompts"
        {
            return Err(OverBudget::Tokens {
                prompt: self.stack[1].count.saturating_sub(1),
                limit: self.budget.tokens,
            });
        }
        Ok(())
    }

    fn string(&mut self, text: &[u8]) -> Result<(), OverBudget> {
        let in_config = self.stack.len() == 2 && self.stack[1].key == b"config";
        let key = self.own_key();
        self.value()?;
        if in_config && key == b"prompts_source" {
            self.source(text.len())?;
        }
        self.string_bytes += text.len() as u64;
        if self.string_bytes > self.budget.string_bytes {
            return Err(OverBudget::StringBytes {
                limit: self.budget.string_bytes,
            });
        }
        Ok(())
    }

    /// An array or object ends at `end`: a `prompts_source` that is one is measured whole.
    fn closed(&mut self, frame: &Frame<'a>, end: usize) -> Result<(), OverBudget> {
        if self.stack.len() == 2 && self.stack[1].key == b"config" && frame.key == b"prompts_source"
        {
            self.source(end - frame.start)?;
        }
        Ok(())
    }

    fn source(&self, bytes: usize) -> Result<(), OverBudget> {
        let bytes = bytes as u64;
        if bytes > self.budget.source_bytes {
            return Err(OverBudget::Source {
                bytes,
                limit: self.budget.source_bytes,
            });
        }
        Ok(())
    }
}

/// The index of the `"` closing a string whose text starts at `from` (the input's length when
/// it never closes).
fn string_end(b: &[u8], mut from: usize) -> usize {
    while from < b.len() {
        match b[from] {
            b'\\' => from += 2,
            b'"' => return from,
            _ => from += 1,
        }
    }
    b.len()
}

/// The end of a number or a literal (`true`, `false`, `null`) starting at `from`.
fn token_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|c| !matches!(c, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.'))
        .map_or(b.len(), |n| from + n)
}
