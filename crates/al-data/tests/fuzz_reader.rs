//! Fuzz-style property tests of the table reader: arbitrary bytes and
//! arbitrary mutations of a valid file never panic, every error names the
//! file, and whatever is read is rectangular. Runs 256 cases each in CI;
//! set PROPTEST_CASES to run more.

use std::io::Write;

use al_data::{read_table, DataError, ReadOptions};
use proptest::prelude::*;

const VALID: &str = "dow,loc1,loc2,price,note\n\
Mon,1,12,100.5,\"a, quoted\"\"cell\"\n\
Tue,T,01,,\"two\nlines\"\n\
Wed,2,25,3e2,é€\n";

fn read(bytes: &[u8]) -> Result<al_data::RawTable, DataError> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    let result = read_table(f.path(), &ReadOptions::default());
    if let Err(e) = &result {
        let text = e.to_string();
        let name = f.path().display().to_string();
        assert!(text.contains(&name), "error does not name the file: {text}");
    }
    result
}

/// One edit of a file: flip, insert or delete a byte, or cut it short.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to CSV, and any byte at all.
    let byte = prop_oneof![
        prop::sample::select(vec![
            b',', b'"', b'\n', b'\r', b'\t', b';', 0xff, 0xc3, 0, b' '
        ]),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len();
        match *e {
            Edit::Set(i, b) if n > 0 => bytes[i % n] = b,
            Edit::Insert(i, b) => bytes.insert(i % (n + 1), b),
            Edit::Delete(i) if n > 0 => {
                bytes.remove(i % n);
            }
            Edit::Truncate(i) => bytes.truncate(i % (n + 1)),
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read(&bytes);
    }

    #[test]
    fn mutated_valid_files_never_panic_and_read_rectangular(
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let bytes = apply(VALID.as_bytes().to_vec(), &edits);
        match read(&bytes) {
            Ok(table) => {
                // Whatever was read is rectangular.
                for r in 0..table.n_rows() {
                    prop_assert_eq!(table.row(r).len(), table.n_cols());
                }
            }
            Err(DataError::Io { .. }) => prop_assert!(false, "an I/O error on a readable file"),
            Err(_) => {}
        }
    }
}
