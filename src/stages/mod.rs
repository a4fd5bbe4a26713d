//! The pipeline's stages. Each is a synchronous core (easy to test, no I/O) built once
//! from the configuration; `pipeline` runs them on their own threads between bounded
//! channels.

pub mod dedup;
pub mod extract;
pub mod normalize;
pub mod similarity;
