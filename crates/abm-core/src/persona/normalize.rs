//! Title normalisation: a job title as written (any case, accents, punctuation,
//! abbreviations, trailing "to the CEO" or "at Acme") reduced to canonical words joined by
//! single spaces, so that any run of words is a slice of one string and a dictionary lookup
//! needs no allocation.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Fast;

/// Canonical words of a title: `text` holds them separated by single spaces, `spans` their
/// byte ranges in `text`.
pub(super) struct Tokens {
    pub text: String,
    spans: Vec<(usize, usize)>,
}

impl Tokens {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn token(&self, index: usize) -> &str {
        let (start, end) = self.spans[index];
        &self.text[start..end]
    }

    /// `length` words from `start`, as one space-separated phrase.
    pub fn phrase(&self, start: usize, length: usize) -> &str {
        &self.text[self.spans[start].0..self.spans[start + length - 1].1]
    }
}

/// "and" is dropped, as "&" is: "Research & Development" and "Research and Development"
/// read alike, and "R and D" like "R&D".
const CONJUNCTIONS: [&str; 3] = ["and", "und", "et"];

/// Words after which the rest of a title names somebody or something else: "Assistant to the
/// CEO", "Head of Sales at Acme", "Directeur Marketing chez Acme".
const CUT_WORDS: [&str; 3] = ["to", "at", "chez"];

/// "x to y" idioms that are not a cut, written as one word (the dictionary knows `gtm`).
const TO_IDIOMS: [(&str, &str, &str); 4] = [
    ("go", "market", "gtm"),
    ("business", "business", "b2b"),
    ("business", "consumer", "b2c"),
    ("direct", "consumer", "d2c"),
];

#[derive(Debug, Clone)]
pub(super) struct Normalizer {
    abbreviations: HashMap<&'static str, &'static str, Fast>,
}

impl Normalizer {
    pub fn new(abbreviations: &[(&'static str, &'static str)]) -> Self {
        Normalizer {
            abbreviations: abbreviations.iter().copied().collect(),
        }
    }

    pub fn tokens(&self, title: &str) -> Tokens {
        let folded = fold(title);
        let words = join_initials(
            folded
                .split(' ')
                .filter(|word| !word.is_empty() && !CONJUNCTIONS.contains(word)),
        );
        let words = cut(words);

        let mut tokens = Tokens {
            text: String::with_capacity(folded.len() + 16),
            spans: Vec::with_capacity(words.len() + 2),
        };
        let mut push = |word: &str| {
            if !tokens.text.is_empty() {
                tokens.text.push(' ');
            }
            let start = tokens.text.len();
            tokens.text.push_str(word);
            tokens.spans.push((start, tokens.text.len()));
        };
        // A lone "MD" is a managing director; beside other words it may be a physician's
        // degree ("Jane Roe, MD") or a region (Maryland).
        if let [only] = words.as_slice()
            && only == "md"
        {
            push("managing");
            push("director");
            return tokens;
        }
        for word in &words {
            match self.abbreviations.get(word.as_ref()) {
                Some(expansion) => expansion.split(' ').for_each(&mut push),
                None => push(word),
            }
        }
        tokens
    }
}

/// Lowercases, folds accents to ASCII where a common Latin letter has one, and turns every
/// other non-alphanumeric character into a single space. An `@` ends the title: what follows
/// is a company.
fn fold(title: &str) -> String {
    let mut folded = String::with_capacity(title.len());
    let space = |folded: &mut String| {
        if !folded.ends_with(' ') {
            folded.push(' ');
        }
    };
    'title: for character in title.chars() {
        for lower in character.to_lowercase() {
            if lower == '@' {
                break 'title;
            }
            if is_combining_mark(lower) {
                // A decomposed accent ("e" + U+0301): drop it, the letter stays.
                continue;
            }
            match fold_letter(lower) {
                Some(ascii) => folded.push_str(ascii),
                None if lower.is_alphanumeric() => folded.push(lower),
                None => space(&mut folded),
            }
        }
    }
    folded
}

fn is_combining_mark(character: char) -> bool {
    matches!(character, '\u{0300}'..='\u{036f}')
}

/// The ASCII spelling of an accented lowercase Latin letter.
fn fold_letter(letter: char) -> Option<&'static str> {
    Some(match letter {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ł' | 'ļ' | 'ľ' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ř' => "r",
        'ß' => "ss",
        'ś' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Joins runs of single characters: "V.P." → `vp`, "R&D" → `rd`, "I.T." → `it`.
fn join_initials<'a>(words: impl Iterator<Item = &'a str>) -> Vec<Cow<'a, str>> {
    let mut joined: Vec<Cow<'a, str>> = Vec::new();
    let mut in_run = false;
    for word in words {
        let single = word.chars().nth(1).is_none();
        match joined.last_mut() {
            Some(last) if single && in_run => last.to_mut().push_str(word),
            _ => joined.push(Cow::Borrowed(word)),
        }
        in_run = single;
    }
    joined
}

/// Ends the title at the first cut word, keeping the "x to y" idioms as one word.
fn cut(words: Vec<Cow<'_, str>>) -> Vec<Cow<'_, str>> {
    let mut kept: Vec<Cow<'_, str>> = Vec::with_capacity(words.len());
    let mut words = words.into_iter().peekable();
    while let Some(word) = words.next() {
        // A cut word that opens the title cuts nothing off ("AT&T Account Manager").
        if kept.is_empty() || !CUT_WORDS.contains(&word.as_ref()) {
            kept.push(word);
            continue;
        }
        let idiom = match (kept.last(), words.peek()) {
            (Some(before), Some(after)) if word == "to" => TO_IDIOMS
                .iter()
                .find(|(first, second, _)| before == first && after == second)
                .map(|(_, _, idiom)| *idiom),
            _ => None,
        };
        let Some(idiom) = idiom else { break };
        kept.pop();
        words.next();
        kept.push(Cow::Borrowed(idiom));
    }
    kept
}
