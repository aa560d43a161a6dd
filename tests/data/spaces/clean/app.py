import gradio as gr
import requests

gr.Interface(lambda url: requests.get(url, timeout=10).status_code, "text", "text").launch()
