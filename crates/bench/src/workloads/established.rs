//! TODO

use super::Params;
use crate::Report;

pub fn run(_p: &Params) -> Result<Report, String> {
    Err("not built yet".into())
}
