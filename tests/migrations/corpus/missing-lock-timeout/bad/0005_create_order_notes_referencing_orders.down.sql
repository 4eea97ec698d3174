-- dropping it takes ACCESS EXCLUSIVE on orders too (its key's triggers live there)
DROP TABLE order_notes; -- expect: missing-lock-timeout
