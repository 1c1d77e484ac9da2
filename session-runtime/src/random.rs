//! The operating system's random source, below everything that draws from it (session
//! ids, keys, nonces, lock tokens).

/// The operating system's random number generator failed.
///
/// This is rare (an early-boot system without entropy, a sandbox forbidding the syscall);
/// the request or the start-up that needed randomness must fail rather than continue with
/// weak values.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::getrandom(buf).map_err(RandomError)
}
