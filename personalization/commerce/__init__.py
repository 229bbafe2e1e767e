"""The product catalogue, fed by the shop (the system of record): products with their price and
stock history. The lowest layer of commerce: segment attributes, triggers and recommendations
read it."""
