"""Settlement's domain: price books, regions, parties, per-ticket ledgers and stock. No I/O here.

money      Decimal amounts rounded half-up to a currency's minor unit
dated      settings whose every entry has a history (effective dates)
catalogue  service items (项目库) and spare parts (备件库)
pricebook  price tiers (多档位), prices, the fallback order and payout rules
regions    regions (currency, tax), exchange rates, warehouses, cost attribution
parties    who does the work: cooperation mode, dealer or partner, home region
terms      all of the above as of one instant
pricing    one line of work priced: the tier used and why, tax, payout
statements a statement from priced lines, its reversal, adjustments
ledger     a ticket's settlement: lines as they happened, statements and reversals
stock      a warehouse's stock: movements, shortages, stock-low once per crossing
periods    statements per technician, party or region over a period, converted
"""
