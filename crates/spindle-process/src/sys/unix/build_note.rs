//! The GNU build-id note of the running executable (`NT_GNU_BUILD_ID`), read from the
//! program headers the loader mapped, so no file is opened.
//!
//! The linker hashes the program's contents into this note (gcc's default `--build-id`), so two
//! copies of the same build have the same note on any machine, which a file's device, inode and
//! modification time cannot promise once it is copied to another host.

use std::ffi::c_void;

const NT_GNU_BUILD_ID: u32 = 3;

/// The main executable's build-id note, if it has one.
pub(crate) fn gnu_build_id() -> Option<Vec<u8>> {
    let mut found: Option<Vec<u8>> = None;
    // SAFETY:
    // - `main_program_note` has the callback signature dl_iterate_phdr expects and only reads
    //   the headers the loader passes it for the duration of the call;
    // - `found` outlives the call and is the only thing the data pointer refers to.
    unsafe {
        libc::dl_iterate_phdr(
            Some(main_program_note),
            (&mut found as *mut Option<Vec<u8>>).cast::<c_void>(),
        );
    }
    found
}

/// `dl_iterate_phdr` callback: the first object is the main program; scan its `PT_NOTE`
/// segments, store the build id in `*data` and stop (a non-zero return ends the iteration).
unsafe extern "C" fn main_program_note(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> i32 {
    // SAFETY:
    // - the loader passes a valid `dl_phdr_info` whose `dlpi_phdr` array has `dlpi_phnum`
    //   entries, all valid during the callback;
    // - `data` is the `Option<Vec<u8>>` `gnu_build_id` passed.
    let (info, found) = unsafe { (&*info, &mut *data.cast::<Option<Vec<u8>>>()) };
    let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
        &[]
    } else {
        // SAFETY: as above, `dlpi_phdr` points to `dlpi_phnum` program headers.
        unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
    };
    for ph in phdrs.iter().filter(|ph| ph.p_type == libc::PT_NOTE) {
        let start = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize);
        // SAFETY:
        // - a PT_NOTE segment lies inside a loaded (PT_LOAD) segment of the object, mapped
        //   readable at load address + p_vaddr for p_memsz bytes.
        let notes = unsafe { std::slice::from_raw_parts(start as *const u8, ph.p_memsz as usize) };
        if let Some(id) = find_build_id(notes) {
            *found = Some(id.to_vec());
            break;
        }
    }
    1
}

/// The descriptor of the `GNU` note of type `NT_GNU_BUILD_ID` in a note segment.
fn find_build_id(mut notes: &[u8]) -> Option<&[u8]> {
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let align4 = |n: usize| n.checked_add(3).map(|n| n & !3);
    while notes.len() >= 12 {
        let namesz = word(notes, 0)? as usize;
        let descsz = word(notes, 4)? as usize;
        let kind = word(notes, 8)?;
        let name_end = 12usize.checked_add(namesz)?;
        let desc_start = align4(name_end)?;
        let desc_end = desc_start.checked_add(descsz)?;
        let name = notes.get(12..name_end)?;
        let desc = notes.get(desc_start..desc_end)?;
        if kind == NT_GNU_BUILD_ID && name == b"GNU\0" {
            return Some(desc);
        }
        notes = notes.get(align4(desc_end)?.min(notes.len())..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
        n.extend_from_slice(&kind.to_ne_bytes());
        n.extend_from_slice(name);
        n.resize(n.len().next_multiple_of(4), 0);
        n.extend_from_slice(desc);
        n.resize(n.len().next_multiple_of(4), 0);
        n
    }

    #[test]
    fn finds_the_gnu_note_after_others() {
        let mut seg = note(b"GNU\0", 1, &[0; 16]); // NT_GNU_ABI_TAG
        seg.extend(note(b"GNU\0", NT_GNU_BUILD_ID, &[7; 20]));
        assert_eq!(find_build_id(&seg), Some(&[7u8; 20][..]));
    }

    #[test]
    fn ignores_other_owners_and_truncated_notes() {
        let seg = note(b"Go\0\0", NT_GNU_BUILD_ID, &[1; 20]);
        assert_eq!(find_build_id(&seg), None);
        let full = note(b"GNU\0", NT_GNU_BUILD_ID, &[1; 20]);
        assert_eq!(find_build_id(&full[..20]), None);
        assert_eq!(find_build_id(&[]), None);
    }

    #[test]
    fn this_test_binary_has_a_build_id() {
        // gcc links with --build-id by default on the platforms spindle supports.
        let id = gnu_build_id().expect("the test binary has a GNU build-id note");
        assert!(id.len() >= 8);
        assert_eq!(gnu_build_id(), Some(id));
    }
}
