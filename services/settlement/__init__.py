"""settlement: prices consumed parts and labour, issues statements and technician payouts."""
