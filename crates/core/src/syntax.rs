//! A command's arguments, declared as one syntax string in the form
//! Redis's documentation uses, parsed into the argument tree COMMAND DOCS
//! returns. The string is the only description of the arguments.
//!
//! The form: `key value [NX | XX] [GET] [EX seconds:integer | KEEPTTL]`.
//! - a lower-case word is an argument, typed `string` unless it says
//!   `:integer`, `:double`, `:key`, `:pattern` or `:unix-time` (a word
//!   named `key` is a key); `@N` names its key spec, else key arguments
//!   take the specs in order;
//! - an upper-case word is a token: alone a pure token, before one
//!   argument that argument's token, first in a group of several the
//!   group's token;
//! - `[...]` is optional, `(...)` required, `a | b` one of them, and a
//!   group may be named `[name: ...]`;
//! - `x [x ...]` (any run of items repeated in a group ending in `...`)
//!   is one argument that may repeat; a repeated token makes it
//!   `multiple_token`.

use basalt_resp::Reply;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    /// What documentation shows for it when that is not its name
    /// (`[old-format: ip:port]`).
    pub display: Option<String>,
    pub kind: ArgType,
    pub token: Option<String>,
    pub key_spec_index: Option<usize>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    /// A oneof's choices or a block's parts.
    pub args: Vec<Arg>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open(bool),
    Close(bool),
    Bar,
    Ellipsis,
    Word(String),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if word.is_empty() {
            return;
        }
        if let Some(w) = word.strip_suffix("...") {
            if !w.is_empty() {
                out.push(Tok::Word(w.to_string()));
            }
            out.push(Tok::Ellipsis);
        } else {
            out.push(Tok::Word(std::mem::take(word)));
        }
        word.clear();
    };
    for ch in s.chars() {
        let tok = match ch {
            '[' => Some(Tok::Open(true)),
            '(' => Some(Tok::Open(false)),
            ']' => Some(Tok::Close(true)),
            ')' => Some(Tok::Close(false)),
            '|' => Some(Tok::Bar),
            c if c.is_whitespace() => None,
            c => {
                word.push(c);
                continue;
            }
        };
        flush(&mut word, &mut out);
        out.extend(tok);
    }
    flush(&mut word, &mut out);
    out
}

/// The parse before conversion: words and groups.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Word(String),
    Group {
        optional: bool,
        name: Option<String>,
        alts: Vec<Vec<Node>>,
    },
    /// Items that may repeat (`x [x ...]`).
    Repeat {
        optional: bool,
        items: Vec<Node>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    /// Alternatives up to the closing bracket (or the end at top level).
    fn alts(&mut self) -> Result<Vec<Vec<Node>>, SyntaxError> {
        let mut alts = vec![self.seq()?];
        while self.peek() == Some(&Tok::Bar) {
            self.at += 1;
            alts.push(self.seq()?);
        }
        Ok(alts)
    }

    fn seq(&mut self) -> Result<Vec<Node>, SyntaxError> {
        let mut items: Vec<Node> = Vec::new();
        loop {
            match self.peek().cloned() {
                None | Some(Tok::Close(_)) | Some(Tok::Bar) => return Ok(items),
                Some(Tok::Ellipsis) => {
                    // `x ...` directly: x repeats.
                    self.at += 1;
                    let last = items
                        .pop()
                        .ok_or_else(|| SyntaxError("'...' after nothing".into()))?;
                    items.push(Node::Repeat {
                        optional: false,
                        items: vec![last],
                    });
                }
                Some(Tok::Word(w)) => {
                    self.at += 1;
                    items.push(Node::Word(w));
                }
                Some(Tok::Open(optional)) => {
                    self.at += 1;
                    let mut name = None;
                    if let Some(Tok::Word(w)) = self.peek() {
                        if let Some(n) = w.strip_suffix(':') {
                            name = Some(n.to_string());
                            self.at += 1;
                        }
                    }
                    let alts = self.alts()?;
                    match self.peek() {
                        Some(Tok::Close(o)) if *o == optional => self.at += 1,
                        _ => return Err(SyntaxError("unbalanced brackets".into())),
                    }
                    // `[x y ...]`: a repetition of the items before it, or
                    // (alone in an optional group) of its own items.
                    if let [alt] = alts.as_slice() {
                        if let Some(Node::Repeat { items: rep, .. }) = alt.last() {
                            let mut unit: Vec<Node> = alt[..alt.len() - 1].to_vec();
                            unit.extend(rep.iter().cloned());
                            let n = unit.len();
                            if items.len() >= n && items[items.len() - n..] == unit[..] {
                                items.truncate(items.len() - n);
                                items.push(Node::Repeat {
                                    optional: false,
                                    items: unit,
                                });
                                continue;
                            }
                            if optional && alt.len() == 1 {
                                items.push(Node::Repeat {
                                    optional: true,
                                    items: unit,
                                });
                                continue;
                            }
                        }
                    }
                    items.push(Node::Group {
                        optional,
                        name,
                        alts,
                    });
                }
            }
        }
    }
}

fn is_token(w: &str) -> bool {
    w == "\"\""
        || (w.chars().any(|c| c.is_ascii_uppercase())
            && !w.chars().any(|c| c.is_ascii_lowercase())
            && !w.contains(':'))
}

fn word_arg(w: &str) -> Result<Arg, SyntaxError> {
    if is_token(w) {
        // `""` is the empty argument (MIGRATE's key with KEYS).
        let (name, token) = if w == "\"\"" {
            ("empty-string".to_string(), String::new())
        } else {
            (w.to_ascii_lowercase(), w.to_string())
        };
        return Ok(Arg {
            name,
            kind: ArgType::PureToken,
            token: Some(token),
            ..blank()
        });
    }
    let (w, spec) = match w.split_once('@') {
        Some((w, n)) => (
            w,
            Some(
                n.parse::<usize>()
                    .map_err(|_| SyntaxError(format!("bad key spec index in {w}")))?,
            ),
        ),
        None => (w, None),
    };
    // `name:type` for the types below; any other colon is part of the
    // name (`ip:port`).
    let typed = w.split_once(':').and_then(|(name, kind)| {
        let kind = match kind {
            "string" => ArgType::String,
            "integer" => ArgType::Integer,
            "double" => ArgType::Double,
            "key" => ArgType::Key,
            "pattern" => ArgType::Pattern,
            "unix-time" => ArgType::UnixTime,
            _ => return None,
        };
        Some((name, kind))
    });
    let (name, kind) = match typed {
        Some(t) => t,
        None if w == "key" => (w, ArgType::Key),
        None => (w, ArgType::String),
    };
    if name.is_empty() {
        return Err(SyntaxError("argument without a name".into()));
    }
    Ok(Arg {
        name: name.to_string(),
        kind,
        key_spec_index: spec,
        ..blank()
    })
}

fn blank() -> Arg {
    Arg {
        name: String::new(),
        display: None,
        kind: ArgType::String,
        token: None,
        key_spec_index: None,
        optional: false,
        multiple: false,
        multiple_token: false,
        args: Vec::new(),
    }
}

/// A sequence of nodes as sibling arguments: a token directly before an
/// argument becomes that argument's token.
fn convert_seq(items: &[Node]) -> Result<Vec<Arg>, SyntaxError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if let (Node::Word(t), Some(next)) = (&items[i], items.get(i + 1)) {
            let next_is_token = matches!(next, Node::Word(w) if is_token(w));
            if is_token(t) && !next_is_token {
                let mut arg = convert_node(next)?;
                arg.token = Some(t.clone());
                out.push(arg);
                i += 2;
                continue;
            }
        }
        out.push(convert_node(&items[i])?);
        i += 1;
    }
    Ok(out)
}

/// Gives an argument its group's name; a plain argument keeps the word
/// it was written as for display.
fn rename(arg: &mut Arg, name: Option<&str>) {
    if let Some(n) = name {
        if !matches!(
            arg.kind,
            ArgType::OneOf | ArgType::Block | ArgType::PureToken
        ) {
            arg.display = Some(std::mem::take(&mut arg.name));
        }
        arg.name = n.to_string();
    }
}

/// A run of items that forms one argument (a group's alternative or a
/// repeated unit): one item, a token and its argument, or a block.
fn convert_unit(items: &[Node], name: Option<&str>) -> Result<Arg, SyntaxError> {
    match items {
        [] => Err(SyntaxError("empty group".into())),
        [one] => {
            let mut arg = convert_node(one)?;
            rename(&mut arg, name);
            Ok(arg)
        }
        [Node::Word(t), rest @ ..] if is_token(t) => {
            if let [one] = rest {
                if !matches!(one, Node::Word(w) if is_token(w)) {
                    let mut arg = convert_node(one)?;
                    arg.token = Some(t.clone());
                    rename(&mut arg, name);
                    return Ok(arg);
                }
            }
            Ok(Arg {
                name: name.map_or_else(|| t.to_ascii_lowercase(), str::to_string),
                kind: ArgType::Block,
                token: Some(t.clone()),
                args: convert_seq(rest)?,
                ..blank()
            })
        }
        _ => Ok(Arg {
            name: name.unwrap_or("data").to_string(),
            kind: ArgType::Block,
            args: convert_seq(items)?,
            ..blank()
        }),
    }
}

fn convert_node(node: &Node) -> Result<Arg, SyntaxError> {
    match node {
        Node::Word(w) => word_arg(w),
        Node::Repeat { optional, items } => {
            let mut arg = convert_unit(items, None)?;
            arg.multiple = true;
            arg.optional |= *optional;
            // A token repeated with each item (`[GET pattern [GET pattern ...]]`).
            if items.len() > 1 && arg.token.is_some() && arg.kind != ArgType::Block {
                arg.multiple_token = true;
            }
            Ok(arg)
        }
        Node::Group {
            optional,
            name,
            alts,
        } => {
            let mut arg = if alts.len() == 1 {
                convert_unit(&alts[0], name.as_deref())?
            } else {
                let choices = alts
                    .iter()
                    .map(|alt| convert_unit(alt, None))
                    .collect::<Result<Vec<_>, _>>()?;
                let default_name = choices
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join("-");
                Arg {
                    name: name.clone().unwrap_or(default_name),
                    kind: ArgType::OneOf,
                    args: choices,
                    ..blank()
                }
            };
            arg.optional |= *optional;
            Ok(arg)
        }
    }
}

/// Parses a syntax string into its argument tree; key arguments without
/// an `@N` take key spec indices in order, the last spec for any beyond.
pub fn parse(s: &str, key_specs: usize) -> Result<Vec<Arg>, SyntaxError> {
    let mut parser = Parser {
        toks: tokenize(s),
        at: 0,
    };
    let alts = parser.alts()?;
    if parser.at != parser.toks.len() {
        return Err(SyntaxError("unbalanced brackets".into()));
    }
    if alts.len() != 1 {
        return Err(SyntaxError("top-level alternatives need a group".into()));
    }
    let mut args = convert_seq(&alts[0])?;
    let mut next = 0;
    assign_key_specs(&mut args, key_specs, &mut next);
    Ok(args)
}

fn assign_key_specs(args: &mut [Arg], specs: usize, next: &mut usize) {
    for arg in args {
        if arg.kind == ArgType::Key && arg.key_spec_index.is_none() && specs > 0 {
            arg.key_spec_index = Some((*next).min(specs - 1));
            *next += 1;
        }
        assign_key_specs(&mut arg.args, specs, next);
    }
}

/// The `arguments` list of COMMAND DOCS.
pub fn docs_reply(args: &[Arg]) -> Reply {
    Reply::Array(args.iter().map(arg_reply).collect())
}

fn arg_reply(arg: &Arg) -> Reply {
    let mut fields = vec![
        (Reply::bulk("name"), Reply::bulk(arg.name.clone())),
        (Reply::bulk("type"), Reply::bulk(arg.kind.name())),
    ];
    let nested = matches!(arg.kind, ArgType::OneOf | ArgType::Block);
    if !nested {
        let display = arg.display.as_ref().unwrap_or(&arg.name);
        fields.push((Reply::bulk("display_text"), Reply::bulk(display.clone())));
    }
    if let Some(i) = arg.key_spec_index {
        fields.push((Reply::bulk("key_spec_index"), Reply::Integer(i as i64)));
    }
    if let Some(token) = &arg.token {
        fields.push((Reply::bulk("token"), Reply::bulk(token.clone())));
    }
    let flags: Vec<Reply> = [
        (arg.optional, "optional"),
        (arg.multiple, "multiple"),
        (arg.multiple_token, "multiple_token"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| Reply::Simple(n.into()))
    .collect();
    if !flags.is_empty() {
        fields.push((Reply::bulk("flags"), Reply::Set(flags)));
    }
    if nested {
        fields.push((Reply::bulk("arguments"), docs_reply(&arg.args)));
    }
    Reply::Map(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact rendering to compare trees: name:type, token, flags.
    fn show(args: &[Arg]) -> String {
        args.iter()
            .map(|a| {
                let mut s = format!("{}:{}", a.name, a.kind.name());
                if let Some(t) = &a.token {
                    s += &format!("<{t}>");
                }
                if let Some(k) = a.key_spec_index {
                    s += &format!("#{k}");
                }
                for (on, f) in [
                    (a.optional, "?"),
                    (a.multiple, "*"),
                    (a.multiple_token, "+"),
                ] {
                    if on {
                        s += f;
                    }
                }
                if !a.args.is_empty() {
                    s += &format!("{{{}}}", show(&a.args));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn tree(s: &str, specs: usize) -> String {
        show(&parse(s, specs).unwrap())
    }

    #[test]
    fn parses_set() {
        assert_eq!(
            tree(
                "key value [condition: NX | XX] [GET] [expiration: EX seconds:integer | PX milliseconds:integer | KEEPTTL]",
                1
            ),
            "key:key#0 value:string condition:oneof?{nx:pure-token<NX> xx:pure-token<XX>} \
             get:pure-token<GET>? expiration:oneof?{seconds:integer<EX> \
             milliseconds:integer<PX> keepttl:pure-token<KEEPTTL>}"
        );
    }

    #[test]
    fn parses_repetitions() {
        assert_eq!(tree("key [key ...]", 1), "key:key#0*");
        assert_eq!(tree("[key [key ...]]", 1), "key:key#0?*");
        assert_eq!(tree("key ...", 1), "key:key#0*");
        assert_eq!(
            tree("key field value [field value ...]", 1),
            "key:key#0 data:block*{field:string value:string}"
        );
        assert_eq!(
            tree("key [GET pattern [GET pattern ...]]", 1),
            "key:key#0 pattern:string<GET>?*+"
        );
        assert_eq!(
            tree("numkeys:integer [key [key ...]] [arg [arg ...]]", 1),
            "numkeys:integer key:key#0?* arg:string?*"
        );
    }

    #[test]
    fn parses_blocks_and_key_specs() {
        assert_eq!(
            tree(
                "destination:key source:key [LIMIT offset:integer count:integer]",
                2
            ),
            "destination:key#0 source:key#1 limit:block<LIMIT>?{offset:integer count:integer}"
        );
        assert_eq!(
            tree("key [STORE destination:key@2]", 3),
            "key:key#0 destination:key<STORE>#2?"
        );
        assert_eq!(
            tree("(STREAMS key [key ...] id [id ...])", 1),
            "streams:block<STREAMS>{key:key#0* id:string*}"
        );
        assert_eq!(
            tree("(key-selector: key | \"\")", 1),
            "key-selector:oneof{key:key#0 empty-string:pure-token<>}"
        );
        assert_eq!(
            tree("(range: start:integer end:integer) ...", 0),
            "range:block*{start:integer end:integer}"
        );
        let renamed = parse("[change: CH] (old-format: ip:port)", 0).unwrap();
        assert_eq!(show(&renamed), "change:pure-token<CH>? old-format:string");
        assert_eq!(renamed[1].display.as_deref(), Some("ip:port"));
        assert_eq!(tree("", 0), "");
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse("key [NX", 1).is_err());
        assert!(parse("key ]", 1).is_err());
        assert!(parse("a | b", 0).is_err());
        assert!(parse("x@y", 0).is_err());
        assert_eq!(tree("ip:port", 0), "ip:port:string");
        assert!(parse("...", 0).is_err());
    }
}
