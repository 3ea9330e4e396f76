//! The rule-set model, parsers and writer.
