//! TODO

use super::Params;
use crate::Report;

pub fn run(_p: &Params, _rules: u32) -> Result<Report, String> {
    Err("not built yet".into())
}
