//! Turning a caught panic payload into the message Python would show for the exception.

use std::any::Any;

use spindle_sync::threading::panic_payload_text;

/// The `&str` or `String` a panic carried, or a placeholder for other payloads.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    panic_payload_text(payload)
        .unwrap_or("Box<dyn Any>")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_each_payload_kind() {
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*p), "static");
        let p = std::panic::catch_unwind(|| panic!("formatted {}", 7)).unwrap_err();
        assert_eq!(panic_message(&*p), "formatted 7");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(5_u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "Box<dyn Any>");
    }
}
