//! The api's business data as pure values: a deterministic product catalog
//! (100 products generated in code), carts, and priced orders. The store
//! keeps carts and orders as JSON under `cart:{user}` and `order:{id}`.

use serde::{Deserialize, Serialize};

const ADJECTIVES: [&str; 10] = [
    "Red", "Quiet", "Rapid", "Sturdy", "Tiny", "Golden", "Modular", "Vintage", "Electric",
    "Foldable",
];
const NOUNS: [&str; 10] = [
    "Kettle", "Lamp", "Backpack", "Keyboard", "Teapot", "Bicycle", "Notebook", "Umbrella",
    "Speaker", "Chair",
];

/// Largest quantity of one product in a cart line.
pub const MAX_QTY: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: u32,
    pub name: String,
    pub price_cents: u64,
    pub stock: u32,
}

/// The product list, ordered by id (1..=100).
#[derive(Debug, Clone)]
pub struct Catalog {
    products: Vec<Product>,
}

impl Catalog {
    /// The same 100 products every time.
    pub fn generate() -> Self {
        let products = (0u32..100)
            .map(|i| {
                let id = i + 1;
                Product {
                    id,
                    name: format!(
                        "{} {}",
                        ADJECTIVES[(i / 10) as usize],
                        NOUNS[(i % 10) as usize]
                    ),
                    price_cents: 199 + u64::from(id * 7919 % 9800),
                    stock: id * 37 % 50,
                }
            })
            .collect();
        Self { products }
    }

    pub fn all(&self) -> &[Product] {
        &self.products
    }

    pub fn get(&self, id: u32) -> Option<&Product> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.products.get(index)
    }

    /// Products whose name contains every word of `query` (case-insensitive).
    pub fn search(&self, query: &str) -> Vec<&Product> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.products
            .iter()
            .filter(|p| {
                let name = p.name.to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .collect()
    }
}

/// A cart as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub items: Vec<CartItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    pub product: u32,
    pub qty: u32,
}

/// The body of `POST /api/cart/{user}/items`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AddItem {
    pub product: u32,
    pub qty: u32,
}

/// The body of `POST /api/orders`.
#[derive(Debug, Clone, Deserialize)]
pub struct PlaceOrder {
    pub user: String,
}

/// Why a cart change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("unknown product {0}")]
    UnknownProduct(u32),
    #[error("qty must be between 1 and {MAX_QTY}, not {0}")]
    BadQty(u32),
}

impl Cart {
    /// Adds `qty` of a product (merging with an existing line).
    pub fn add(&mut self, catalog: &Catalog, item: AddItem) -> Result<(), CartError> {
        if catalog.get(item.product).is_none() {
            return Err(CartError::UnknownProduct(item.product));
        }
        if item.qty == 0 || item.qty > MAX_QTY {
            return Err(CartError::BadQty(item.qty));
        }
        if let Some(line) = self.items.iter_mut().find(|l| l.product == item.product) {
            let qty = line.qty.saturating_add(item.qty);
            if qty > MAX_QTY {
                return Err(CartError::BadQty(qty));
            }
            line.qty = qty;
        } else {
            self.items.push(CartItem {
                product: item.product,
                qty: item.qty,
            });
        }
        Ok(())
    }
}

/// A cart line with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub product: u32,
    pub name: String,
    pub qty: u32,
    pub price_cents: u64,
    pub line_cents: u64,
}

/// A cart priced against the catalog (lines for unknown products dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priced {
    pub items: Vec<PricedLine>,
    pub total_cents: u64,
}

pub fn price(cart: &Cart, catalog: &Catalog) -> Priced {
    let items: Vec<PricedLine> = cart
        .items
        .iter()
        .filter_map(|item| {
            let product = catalog.get(item.product)?;
            Some(PricedLine {
                product: product.id,
                name: product.name.clone(),
                qty: item.qty,
                price_cents: product.price_cents,
                line_cents: product.price_cents * u64::from(item.qty),
            })
        })
        .collect();
    let total_cents = items.iter().map(|l| l.line_cents).sum();
    Priced { items, total_cents }
}

/// An order as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub user: String,
    pub items: Vec<PricedLine>,
    pub total_cents: u64,
}

/// Whether a path segment may name a user (and so a store key).
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// Whether a path segment may name an order (16 lowercase hex digits).
pub fn valid_order_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn cart_key(user: &str) -> String {
    format!("cart:{user}")
}

pub fn order_key(id: &str) -> String {
    format!("order:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_deterministic() {
        let catalog = Catalog::generate();
        assert_eq!(catalog.all().len(), 100);
        assert_eq!(
            catalog.get(1).unwrap(),
            &Product {
                id: 1,
                name: "Red Kettle".into(),
                price_cents: 199 + 7919,
                stock: 37
            }
        );
        assert_eq!(catalog.get(100).unwrap().name, "Foldable Chair");
        assert!(catalog.get(0).is_none() && catalog.get(101).is_none());
        assert!(
            catalog
                .all()
                .iter()
                .all(|p| p.price_cents >= 199 && p.stock < 50)
        );
        assert_eq!(Catalog::generate().all(), catalog.all());
    }

    #[test]
    fn search_matches_every_word() {
        let catalog = Catalog::generate();
        let names: Vec<&str> = catalog
            .search("golden TEA")
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["Golden Teapot"]);
        assert_eq!(catalog.search("lamp").len(), 10);
        assert!(catalog.search("nothing").is_empty());
    }

    #[test]
    fn carts_merge_lines_and_refuse_nonsense() {
        let catalog = Catalog::generate();
        let mut cart = Cart::default();
        cart.add(&catalog, AddItem { product: 3, qty: 2 }).unwrap();
        cart.add(&catalog, AddItem { product: 5, qty: 1 }).unwrap();
        cart.add(&catalog, AddItem { product: 3, qty: 1 }).unwrap();
        assert_eq!(
            cart.items,
            [
                CartItem { product: 3, qty: 3 },
                CartItem { product: 5, qty: 1 }
            ]
        );
        assert_eq!(
            cart.add(
                &catalog,
                AddItem {
                    product: 999,
                    qty: 1
                }
            ),
            Err(CartError::UnknownProduct(999))
        );
        assert_eq!(
            cart.add(&catalog, AddItem { product: 3, qty: 0 }),
            Err(CartError::BadQty(0))
        );
        assert_eq!(
            cart.add(
                &catalog,
                AddItem {
                    product: 3,
                    qty: MAX_QTY
                }
            ),
            Err(CartError::BadQty(MAX_QTY + 3))
        );
        let priced = price(&cart, &catalog);
        let p3 = catalog.get(3).unwrap().price_cents;
        let p5 = catalog.get(5).unwrap().price_cents;
        assert_eq!(priced.total_cents, 3 * p3 + p5);
        assert_eq!(priced.items[0].line_cents, 3 * p3);
    }

    #[test]
    fn user_and_order_ids() {
        assert!(valid_user("alice") && valid_user("a.b-c_9"));
        assert!(
            !valid_user("")
                && !valid_user("a/b")
                && !valid_user("é")
                && !valid_user(&"x".repeat(65))
        );
        assert!(valid_order_id("0123456789abcdef"));
        assert!(!valid_order_id("0123456789ABCDEF") && !valid_order_id("12"));
        assert_eq!(cart_key("alice"), "cart:alice");
    }
}
