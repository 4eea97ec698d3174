import pandas as pd


def load(engine):
    frame = pd.read_csv("orders.csv")
    frame.to_sql("orders", engine, if_exists="replace")
