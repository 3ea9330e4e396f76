//! Replies that the REJECT target sends, built as the kernel builds them.
