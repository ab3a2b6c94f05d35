//! `multipart/form-data` as a browser posts it (a form with a file input): the text fields
//! become a [`Posted`] like an urlencoded body, the files are kept to be forwarded to the API.
//! The site decides nothing about the files (type, size): the API does, and says why.

use super::forms::Posted;

/// A file a visitor chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Whether a request's `Content-Type` is `multipart/form-data`, and its boundary.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The value of `key="…"` in a `Content-Disposition` header.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim().trim_matches('"').replace("%22", "\""))
    })
}

/// The fields and files of a multipart body; `None` when it is not well formed. A file input
/// left empty (a part with an empty file name and no bytes) is no file.
pub fn parse(boundary: &str, body: &[u8]) -> Option<(Posted, Vec<File>)> {
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut fields = Vec::new();
    let mut files = Vec::new();
    let mut at = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body.get(at..at + 2)? == b"--" {
            break;
        }
        at = find(body, b"\r\n", at)? + 2;
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = std::str::from_utf8(&body[at..head_end]).ok()?;
        let content_start = head_end + 4;
        let content_end = find(body, &next_delimiter, content_start)?;
        let content = &body[content_start..content_end];
        let mut disposition = "";
        let mut content_type = "application/octet-stream";
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => disposition = value.trim(),
                "content-type" => content_type = value.trim(),
                _ => {}
            }
        }
        let name = param(disposition, "name")?;
        match param(disposition, "filename") {
            Some(filename) => {
                if !(filename.is_empty() && content.is_empty()) {
                    files.push(File { filename, content_type: content_type.to_owned(), bytes: content.to_vec() });
                }
            }
            None => fields.push((name, String::from_utf8_lossy(content).into_owned())),
        }
        at = content_end + next_delimiter.len();
    }
    Some((Posted::from_pairs(fields), files))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_and_files_come_apart() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"f.nome\"\r\n\r\nAda\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"allegati\"; filename=\"a b.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"allegati\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n\
--XyZ--\r\n";
        let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
        let (posted, files) = parse(&b, body).unwrap();
        assert_eq!(posted.get("f.nome"), Some("Ada"));
        assert_eq!(
            files,
            vec![File {
                filename: "a b.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.4\r\n".to_vec()
            }]
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert!(parse("XyZ", b"--XyZ\r\nbroken").is_none());
    }
}
