//! CSRF tokens: the synchronizer-token pattern.
//!
//! A random token is stored in the session and written into every form as a hidden
//! field; a state-changing request is accepted only when its form carries the same token.
//! A cross-site page can make the browser send the session cookie, but it cannot read the
//! token, so it cannot forge the form. `SameSite=Lax` on the session cookie is a second,
//! independent line of defence.

use subtle::ConstantTimeEq;

/// Length of a token in random bytes (rendered as twice as many hex digits).
pub const TOKEN_BYTES: usize = 32;

/// A fresh token: 256 bits from the operating system's CSPRNG, as lower-case hex.
///
/// # Errors
/// The operating system has no randomness to give (never on a working Linux host).
///
/// ```
/// let a = examples::csrf::new_token().unwrap();
/// let b = examples::csrf::new_token().unwrap();
/// assert_eq!(a.len(), 64);
/// assert_ne!(a, b);
/// ```
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `given` (from the form) matches `expected` (from the session).
///
/// A missing token on either side never matches, and the comparison takes the same time
/// whatever the first differing byte.
///
/// ```
/// use examples::csrf::verify;
/// assert!(verify(Some("abc"), Some("abc")));
/// assert!(!verify(Some("abc"), Some("abd")));
/// assert!(!verify(Some("abc"), None));
/// assert!(!verify(None, None));
/// assert!(!verify(Some(""), Some("")));
/// ```
pub fn verify(expected: Option<&str>, given: Option<&str>) -> bool {
    match (expected, given) {
        (Some(expected), Some(given)) if !expected.is_empty() => {
            expected.as_bytes().ct_eq(given.as_bytes()).into()
        }
        _ => false,
    }
}
