//! Screen snapshots (TestBackend + insta) from fixture data with a fixed
//! clock, and style checks that snapshots (text only) cannot see.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::console::fixtures;
use crate::console::keymap::Key;
use crate::console::model::Model;
use crate::console::msg::{Msg, ShadowEvent};
use crate::console::theme::Theme;
use crate::console::update::update;

fn screen(model: &Model, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| super::draw(frame, model, theme))
        .unwrap();
    terminal
}

fn theme() -> Theme {
    Theme::builtin().unwrap()
}

fn keys(model: &mut Model, keys: &[Key]) {
    for key in keys {
        update(model, Msg::Key(key.to_event()));
    }
}

/// The text of row `y`.
fn row(buffer: &Buffer, y: u16) -> String {
    (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect()
}

/// The first cell whose row contains `needle`, at the needle's position.
fn find(buffer: &Buffer, needle: &str) -> (u16, u16) {
    for y in 0..buffer.area.height {
        let text = row(buffer, y);
        if let Some(byte) = text.find(needle) {
            return (text[..byte].chars().count() as u16, y);
        }
    }
    panic!("{needle:?} not on screen");
}

#[test]
fn group_view_with_stats() {
    let model = fixtures::model();
    let terminal = screen(&model, &theme(), 160, 14);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn services_pane_focused_on_the_second_api_replica() {
    let mut model = fixtures::model();
    keys(&mut model, &[Key::char('l'), Key::char('j')]);
    let terminal = screen(&model, &theme(), 120, 14);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_overlay() {
    let mut model = fixtures::model();
    keys(&mut model, &[Key::char('?')]);
    let terminal = screen(&model, &theme(), 100, 26);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn narrow_terminal_drops_columns_whole() {
    let model = fixtures::model();
    let terminal = screen(&model, &theme(), 60, 14);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn daemon_unreachable_status() {
    let mut model = fixtures::model();
    update(
        &mut model,
        Msg::FeedError(
            "Docker daemon unreachable: connection refused (unix:///var/run/docker.sock)".into(),
        ),
    );
    let terminal = screen(&model, &theme(), 100, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn filter_box_while_typing() {
    let mut model = fixtures::model();
    keys(
        &mut model,
        &[
            Key::char('/'),
            Key::char('a'),
            Key::char('p'),
            Key::char('i'),
        ],
    );
    let terminal = screen(&model, &theme(), 100, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn before_the_first_listing_and_on_an_empty_engine() {
    let model = Model::new(None);
    let waiting = screen(&model, &theme(), 80, 8);
    insta::assert_snapshot!("waiting", waiting.backend());
    let mut model = Model::new(None);
    update(&mut model, Msg::Engine(fixtures::engine()));
    update(&mut model, Msg::Groups(Vec::new()));
    let empty = screen(&model, &theme(), 80, 8);
    insta::assert_snapshot!("empty", empty.backend());
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut model = fixtures::model();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (0, 0), (200, 2)] {
        screen(&model, &theme(), w, h);
    }
    keys(&mut model, &[Key::char('?')]);
    for (w, h) in [(1, 1), (10, 3), (30, 6)] {
        screen(&model, &theme(), w, h);
    }
}

#[test]
fn styles_come_from_the_theme_roles() {
    let theme = theme();
    let terminal = screen(&fixtures::model(), &theme, 150, 16);
    let buffer = terminal.backend().buffer();
    let starting = find(buffer, "starting");
    assert_eq!(buffer[starting].fg, theme.warn.fg.unwrap());
    let cpu = find(buffer, "92.4%");
    assert_eq!(buffer[cpu].fg, theme.crit.fg.unwrap());
    assert_eq!(buffer[(0, 0)].bg, theme.header.bg.unwrap());
}

#[test]
fn no_color_draws_without_any_colour() {
    let mut model = fixtures::model();
    update(
        &mut model,
        Msg::FeedError("Docker daemon unreachable: x".into()),
    );
    keys(&mut model, &[Key::char('/'), Key::char('a')]);
    let theme = Theme::load(None, true).unwrap();
    let terminal = screen(&model, &theme, 150, 16);
    for cell in &terminal.backend().buffer().content {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    let mut model = fixtures::model();
    keys(&mut model, &[Key::char('?')]);
    let terminal = screen(&model, &theme, 100, 26);
    assert!(
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
}

/// The fixture model with shop's shadow, sized like the screen it is drawn on.
fn with_shadow(width: u16, height: u16) -> Model {
    let mut model = fixtures::model_with_shadow();
    update(
        &mut model,
        Msg::Resize(ratatui::layout::Size::new(width, height)),
    );
    model
}

#[test]
fn group_view_with_a_shadow_side_by_side() {
    let model = with_shadow(160, 16);
    let terminal = screen(&model, &theme(), 160, 16);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn group_view_with_a_shadow_wide() {
    let mut model = with_shadow(240, 16);
    keys(&mut model, &[Key::char('l'), Key::char('j')]);
    let terminal = screen(&model, &theme(), 240, 16);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn group_view_with_a_shadow_stacked_at_60_columns() {
    let theme = theme();
    let mut model = with_shadow(60, 24);
    keys(&mut model, &[Key::char('l')]);
    let terminal = screen(&model, &theme, 60, 24);
    insta::assert_snapshot!(terminal.backend());
    // The cursor's pair is highlighted on both sides.
    let buffer = terminal.backend().buffer();
    let selection = theme.selection.bg.unwrap();
    assert_eq!(buffer[find(buffer, "shop-api-1")].bg, selection);
    assert_eq!(buffer[find(buffer, "1 api-1 ")].bg, selection);
    assert_ne!(buffer[find(buffer, "1 gateway-1 ")].bg, selection);
}

#[test]
fn plan_overlay() {
    let mut model = with_shadow(100, 30);
    update(
        &mut model,
        Msg::Shadow(ShadowEvent::Planned {
            group: "shop".into(),
            result: Ok(Box::new(fixtures::plan())),
        }),
    );
    let terminal = screen(&model, &theme(), 100, 30);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn refused_plan_overlay() {
    let mut model = with_shadow(100, 30);
    update(
        &mut model,
        Msg::Shadow(ShadowEvent::Planned {
            group: "shop".into(),
            result: Ok(Box::new(fixtures::refused_plan())),
        }),
    );
    keys(&mut model, &[Key::char('G'), Key::char('y')]);
    let terminal = screen(&model, &theme(), 100, 30);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn teardown_confirmation() {
    let mut model = with_shadow(100, 16);
    keys(&mut model, &[Key::char('D')]);
    let terminal = screen(&model, &theme(), 100, 16);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_status_line_follows_a_shadow_operation() {
    let mut model = with_shadow(120, 12);
    keys(&mut model, &[Key::char('D'), Key::char('y')]);
    let terminal = screen(&model, &theme(), 120, 12);
    let buffer = terminal.backend().buffer();
    assert_eq!(
        row(buffer, 10).trim_end(),
        " ◆ removing shadow a1b2c3 of shop …"
    );
    assert_eq!(buffer[(1, 10)].fg, theme().shadow.fg.unwrap());
    update(
        &mut model,
        Msg::Shadow(ShadowEvent::Removed {
            id: "a1b2c3".into(),
            group: "shop".into(),
            result: Err("engine API error 500: device busy".into()),
        }),
    );
    let terminal = screen(&model, &theme(), 120, 12);
    let buffer = terminal.backend().buffer();
    assert_eq!(
        row(buffer, 10).trim_end(),
        " ✗ removing shadow a1b2c3 of shop failed: engine API error 500: device busy"
    );
    assert_eq!(buffer[(1, 10)].fg, theme().crit.fg.unwrap());
}

#[test]
fn shadow_rows_use_the_shadow_role_and_production_the_prod_role() {
    let theme = theme();
    let model = with_shadow(200, 16);
    let terminal = screen(&model, &theme, 200, 16);
    let buffer = terminal.backend().buffer();
    let shadow = theme.shadow.fg.unwrap();
    let prod = theme.prod.fg.unwrap();
    assert_eq!(buffer[find(buffer, "◆ a1b2c3")].fg, shadow);
    assert_eq!(buffer[find(buffer, "Shadow a1b2c3 · gateway")].fg, shadow);
    assert_eq!(buffer[find(buffer, "Production")].fg, prod);
    assert_eq!(buffer[find(buffer, "shop-api-1")].fg, prod);
    // The shadow side: right of its title's column.
    let (shadow_x, _) = find(buffer, "Shadow a1b2c3");
    let (_, y) = find(buffer, "shop-gateway-1");
    let text: Vec<String> = (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol().to_owned())
        .collect();
    let clone_x = (shadow_x..buffer.area.width)
        .find(|&x| text[x as usize..].concat().starts_with("gateway-1"))
        .expect("the gateway clone beside production's");
    assert_eq!(buffer[(clone_x, y)].fg, shadow);
    let (sep_x, _) = find(buffer, "│ Shadow");
    assert_eq!(buffer[(sep_x, y)].symbol(), "│", "the sides are separated");
}

#[test]
fn shadow_views_fit_tiny_terminals_and_honour_no_color() {
    let mut model = fixtures::model_with_shadow();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (0, 0), (200, 2), (45, 8)] {
        screen(&model, &theme(), w, h);
    }
    update(
        &mut model,
        Msg::Shadow(ShadowEvent::Planned {
            group: "shop".into(),
            result: Ok(Box::new(fixtures::refused_plan())),
        }),
    );
    for (w, h) in [(1, 1), (10, 3), (30, 6), (200, 2)] {
        screen(&model, &theme(), w, h);
    }
    let mono = Theme::load(None, true).unwrap();
    let terminal = screen(&model, &mono, 100, 30);
    assert!(
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    let mut model = fixtures::model_with_shadow();
    keys(&mut model, &[Key::char('D')]);
    for (w, h) in [(1, 1), (10, 3), (30, 6)] {
        screen(&model, &theme(), w, h);
    }
    let terminal = screen(&model, &mono, 150, 16);
    assert!(
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
}

#[test]
fn the_header_shows_the_host_when_it_fits() {
    let mut model = fixtures::model();
    update(
        &mut model,
        Msg::Host(crate::metrics::host::HostStats {
            cpu_percent: 37.2,
            cpus: 2,
            mem_used: 3 << 30,
            mem_total: 24 << 30,
            load1: 1.25,
        }),
    );
    let wide = screen(&model, &theme(), 160, 14);
    let header = row(wide.backend().buffer(), 0);
    assert!(
        header.contains("host cpu 37% of 2 · mem 3.0GiB/24.0GiB · load 1.25"),
        "{header}"
    );
    assert!(header.trim_end().ends_with(&model.clock), "{header}");
    let narrow = screen(&model, &theme(), 60, 14);
    let header = row(narrow.backend().buffer(), 0);
    assert!(header.contains("understudy"), "{header}");
}
