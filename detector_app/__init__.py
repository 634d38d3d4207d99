"""The Streamlit app (``streamlit run app.py``): layout only; every number comes from ``detector``.

``ui`` holds the app's cached reads and shared widgets; ``pages/`` the pages. The library package
``detector`` never imports Streamlit.
"""
